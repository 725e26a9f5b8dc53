"""Reading jobs and workers for people: visibility, filters and the wire shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.jobs import lifecycle
from apps.jobs.exceptions import JobNotFound
from apps.jobs.models import Job, Worker
from apps.jobs.registry import health
from apps.objectql.exceptions import InvalidQuery


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def visible_jobs(project_id: int | None, user_id: int | None, see_all: bool):
    """The project's jobs; only the user's own unless `see_all` (project admins)."""
    jobs = Job.objects.filter(project_id=project_id)
    return jobs if see_all else jobs.filter(user_id=user_id)


def get_job(project_id: int | None, user_id: int | None, see_all: bool, job_id: str) -> Job:
    job = visible_jobs(project_id, user_id, see_all).filter(pk=job_id).first()
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    return job


def parse_list_query(params: dict[str, str]) -> dict[str, Any]:
    status = params.get("status") or None
    if status is not None and status not in (*lifecycle.JOB_STATUSES, "dead_letter"):
        raise InvalidQuery(
            f"unknown status {status!r}: one of {', '.join(lifecycle.JOB_STATUSES)}, dead_letter",
            field="status",
        )
    raw_limit = params.get("limit") or params.get("top") or str(settings.OS_DEFAULT_PAGE_SIZE)
    try:
        limit = int(raw_limit)
    except ValueError:
        raise InvalidQuery(f"limit must be an integer, got {raw_limit!r}", field="limit")
    if not 1 <= limit <= settings.OS_MAX_PAGE_SIZE:
        raise InvalidQuery(f"limit must be from 1 to {settings.OS_MAX_PAGE_SIZE}", field="limit")
    return {"status": status, "kind": params.get("kind") or None, "limit": limit}


def list_jobs(jobs, status: str | None, kind: str | None, limit: int) -> dict[str, Any]:
    if status == "dead_letter":
        jobs = jobs.filter(dead_letter=True)
    elif status is not None:
        jobs = jobs.filter(status=status)
    if kind is not None:
        jobs = jobs.filter(kind=kind)
    total = jobs.count()
    page = list(jobs.order_by("-created_at", "-pk")[:limit])
    return {
        "records": [job_body(job, events=False) for job in page],
        "total": total,
        "hasMore": total > len(page),
    }


def job_body(job: Job, events: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "target": job.target,
        "queue": job.queue,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "dead_letter": job.dead_letter,
        "result": job.result,
        "error": job.error or None,
        "user_id": job.user_id,
        "request_id": job.request_id,
        "created_at": _time(job.created_at),
        "updated_at": _time(job.updated_at),
        "finished_at": _time(job.finished_at),
    }
    if not events:
        return body
    history = list(job.events.order_by("id"))
    body["events"] = [
        {
            "status": event.status,
            "worker": event.worker or None,
            "attempt": event.attempt,
            "message": event.message or None,
            "error": event.error or None,
            "at": _time(event.at),
        }
        for event in history
    ]
    if job.broadcast:
        body["workers"] = [
            {
                "worker": slot.key,
                "status": slot.status,
                "attempts": slot.attempt,
                "result": slot.result,
                "error": slot.error or None,
                "at": _time(slot.at),
            }
            for slot in sorted(lifecycle.slots(job, history).values(), key=lambda s: s.key)
        ]
    return body


def worker_body(worker: Worker, now=None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "name": worker.name,
        "hostname": worker.hostname,
        "labels": worker.labels,
        "pid": worker.pid,
        "queues": worker.queues,
        "health": health(worker, now),
        "started_at": _time(worker.started_at),
        "last_heartbeat": _time(worker.last_heartbeat),
        "heartbeat_age_seconds": round((now - worker.last_heartbeat).total_seconds(), 1),
        "heartbeat_seconds": worker.heartbeat_seconds,
        "state_since": _time(worker.state_since),
        "facts": worker.facts,
    }


def list_workers() -> dict[str, Any]:
    now = timezone.now()
    records = [worker_body(worker, now) for worker in Worker.objects.order_by("name")]
    return {"records": records, "total": len(records)}
