"""The task django-q2 runs for every delivery: claim it, rebuild the Context, call the
job's function, record the outcome.

Deliveries can arrive twice (the ORM broker hands a task out again once its lock expires,
a rescued attempt is queued anew): only the delivery whose (slot, attempt) is the slot's
current `submitted` one runs; every other is acknowledged and dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string
from django_q.exceptions import TimeoutException

from apps.jobs import lifecycle
from apps.jobs.exceptions import JobNotFound
from apps.jobs.models import Job
from apps.jobs.registry import current_worker_name
from apps.kernel.cache import kernels
from apps.projects.context import Context, current_context, current_request_id, new_request_id
from apps.projects.models import Project

logger = logging.getLogger("objectos.jobs")


class ContextUnavailable(Exception):
    """The job's project, version or user is gone: it cannot run as it was submitted."""


def rebuild_context(job: Job, worker: str, attempt: int) -> Context:
    """The submitter's Context from ids: project, kernel of the version, user, request id."""
    kernel, project_name = None, ""
    if job.project_id is not None:
        project = Project.objects.filter(pk=job.project_id).first()
        if project is None:
            raise ContextUnavailable(f"project {job.project_id} no longer exists")
        project_name = project.name
        version_id = job.version_id or project.published_version_id
        if version_id is not None:
            kernel = kernels.get_version(project.name, version_id)
    user = None
    if not job.is_system:
        user = get_user_model().objects.filter(pk=job.user_id, is_active=True).first()
        if user is None:
            raise ContextUnavailable("the user who submitted the job no longer exists")
    return Context(
        request_id=job.request_id or new_request_id(),
        project_id=job.project_id,
        project_name=project_name,
        kernel=kernel,
        user=user,
        api_key_id=job.api_key_id,
        is_system=job.is_system,
        extra={"job_id": job.id, "attempt": attempt, "worker": worker},
    )


def _claim(job_id: str, slot: str, attempt: int, worker: str) -> Job | None:
    with lifecycle.locked(job_id) as job:
        state = lifecycle.slots(job).get(slot)
        if state is None or state.attempt != attempt or state.status != lifecycle.SUBMITTED:
            return None
        lifecycle.append(job, lifecycle.ACKNOWLEDGED, worker=worker, attempt=attempt)
        lifecycle.refresh(job)
        return job


def _still_ours(job: Job, slot: str, attempt: int, worker: str) -> bool:
    state = lifecycle.slots(job).get(slot)
    return (
        state is not None
        and state.attempt == attempt
        and state.worker == worker
        and state.status in lifecycle.IN_FLIGHT
    )


def _started(job_id: str, slot: str, attempt: int, worker: str) -> bool:
    with lifecycle.locked(job_id) as job:
        if not _still_ours(job, slot, attempt, worker):
            return False
        lifecycle.append(job, lifecycle.STARTED, worker=worker, attempt=attempt)
        lifecycle.refresh(job)
        return True


def _finish(job_id: str, slot: str, attempt: int, worker: str, result: Any, error: str) -> None:
    with lifecycle.locked(job_id) as job:
        if not _still_ours(job, slot, attempt, worker):
            logger.warning(
                "job %s attempt %s finished on %s after it was given up; outcome dropped",
                job_id, attempt, worker,
            )  # fmt: skip
            return
        if error:
            lifecycle.fail_attempt(job, slot, attempt, worker, error)
        else:
            lifecycle.append(
                job, lifecycle.COMPLETED, worker=worker, attempt=attempt, result=result
            )
            lifecycle.refresh(job)


def _describe(error: BaseException) -> str:
    text = str(error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {text}"[:4000]


def run_delivery(job_id: str, slot: str, attempt: int) -> str:
    """Run one delivery of a job; returns what happened (django-q2 stores it)."""
    # a targeted slot is its worker's: only that worker consumes the slot's queue
    worker = slot or current_worker_name()
    try:
        job = _claim(job_id, slot, attempt, worker)
    except JobNotFound:
        logger.warning("job %s not found; delivery dropped", job_id)
        return "missing"
    if job is None:
        logger.info("job %s slot %r attempt %s is not current; dropped", job_id, slot, attempt)
        return "stale"
    request_token = current_request_id.set(job.request_id or None)
    try:
        try:
            ctx = rebuild_context(job, worker, attempt)
            func = import_string(job.func)
        except Exception as error:
            _finish(job_id, slot, attempt, worker, None, _describe(error))
            return "failed"
        if not _started(job_id, slot, attempt, worker):
            return "stale"
        context_token = current_context.set(ctx)
        try:
            value = func(ctx, **job.kwargs)
            result = orjson.loads(orjson.dumps(value)) if value is not None else None
        except TimeoutException as error:
            _finish(job_id, slot, attempt, worker, None, _describe(error))
            raise  # django-q2 replaces the timed-out worker process
        except Exception as error:
            logger.exception("job %s attempt %s failed", job_id, attempt)
            _finish(job_id, slot, attempt, worker, None, _describe(error))
            return "failed"
        finally:
            current_context.reset(context_token)
        _finish(job_id, slot, attempt, worker, result, "")
        return "completed"
    finally:
        current_request_id.reset(request_token)
