"""A job's life as append-only events: appending them, and reading status back out.

Statuses: submitted, acknowledged (a worker took the delivery), started (the context is
rebuilt and the function called), completed, failed, skipped. A `_any` job has one slot;
a targeted job has one slot per addressed worker, each with its own events and attempts,
and its status sums them up (`partial_failure` when some failed and some completed).
Every change runs under the job's row lock, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from apps.jobs import queues
from apps.jobs.exceptions import JobNotFound
from apps.jobs.models import Job, JobEvent
from apps.objectql.transactions import write_transaction

SUBMITTED = "submitted"
ACKNOWLEDGED = "acknowledged"
STARTED = "started"
COMPLETED = "completed"
FAILED = "failed"
SKIPPED = "skipped"
PARTIAL_FAILURE = "partial_failure"
EVENT_STATUSES = (SUBMITTED, ACKNOWLEDGED, STARTED, COMPLETED, FAILED, SKIPPED)
JOB_STATUSES = (*EVENT_STATUSES, PARTIAL_FAILURE)
IN_FLIGHT = (ACKNOWLEDGED, STARTED)
FINISHED = (COMPLETED, FAILED, SKIPPED, PARTIAL_FAILURE)
RETRYABLE = (FAILED, PARTIAL_FAILURE, SKIPPED)


@dataclass
class Slot:
    """Where one delivery of a job stands: its last event, and the worker holding it."""

    key: str  # "" for a `_any` job, else the worker's name
    status: str
    attempt: int
    worker: str
    result: Any = None
    error: str = ""
    at: Any = None


@contextmanager
def locked(job_id: str) -> Iterator[Job]:
    """The job, row-locked for the length of a write transaction (JobNotFound if absent)."""
    with write_transaction():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise JobNotFound(f"job {job_id} not found")
        yield job


def append(
    job: Job,
    status: str,
    *,
    worker: str = "",
    attempt: int = 0,
    message: str = "",
    result: Any = None,
    error: str = "",
) -> JobEvent:
    return JobEvent.objects.create(
        job=job,
        status=status,
        worker=worker,
        attempt=attempt,
        message=message,
        result=result,
        error=error,
    )


def slots(job: Job, events: list[JobEvent] | None = None) -> dict[str, Slot]:
    """The state of each delivery slot, from the events in order."""
    if events is None:
        events = list(job.events.order_by("id"))
    states: dict[str, Slot] = {}
    for event in events:
        if job.broadcast:
            if not event.worker:
                continue  # a job-level event (skipped: nobody matched)
            key = event.worker
        else:
            key = ""
        slot = states.get(key)
        if slot is None:
            slot = states[key] = Slot(key, event.status, event.attempt, event.worker)
        slot.status, slot.attempt, slot.at = event.status, event.attempt, event.at
        if event.worker:
            slot.worker = event.worker
        if event.status == COMPLETED:
            slot.result, slot.error = event.result, ""
        elif event.status == FAILED:
            slot.error = event.error
        elif event.status == SUBMITTED:
            slot.result = None
    return states


def status_of(job: Job, states: dict[str, Slot], events: list[JobEvent]) -> str:
    if not states:
        return events[-1].status if events else SUBMITTED
    statuses = [slot.status for slot in states.values()]
    if not job.broadcast:
        return statuses[0]
    if all(s in (COMPLETED, FAILED) for s in statuses):
        if all(s == COMPLETED for s in statuses):
            return COMPLETED
        if all(s == FAILED for s in statuses):
            return FAILED
        return PARTIAL_FAILURE
    return (
        STARTED
        if any(s in IN_FLIGHT or s in (COMPLETED, FAILED) for s in statuses)
        else (SUBMITTED)
    )


def refresh(job: Job) -> Job:
    """Recompute the cached columns (status, attempts, result, error) from the events."""
    events = list(job.events.order_by("id"))
    states = slots(job, events)
    job.status = status_of(job, states, events)
    job.attempts = max((s.attempt for s in states.values()), default=0)
    if job.broadcast:
        job.result = {
            key: slot.result for key, slot in sorted(states.items()) if slot.status == COMPLETED
        } or None
        errors = [f"{key}: {slot.error}" for key, slot in sorted(states.items()) if slot.error]
        job.error = "\n".join(errors) if job.status in (FAILED, PARTIAL_FAILURE) else ""
    elif states:
        slot = states[""]
        job.result = slot.result if slot.status == COMPLETED else None
        job.error = slot.error if slot.status != COMPLETED else ""
    if job.status == SKIPPED and events:
        job.error = events[-1].message
    job.finished_at = timezone.now() if job.status in FINISHED else None
    job.save(update_fields=["status", "attempts", "result", "error", "finished_at", "updated_at"])
    return job


def slot_queue(job: Job, key: str) -> str:
    return queues.worker_queue(key) if key else queues.shared_queue(job.queue)


def submit_slot(job: Job, key: str, attempt: int, message: str = "") -> None:
    """Append `submitted` for one slot and enqueue its delivery after commit."""
    append(job, SUBMITTED, worker=key, attempt=attempt, message=message)
    queues.enqueue_on_commit(slot_queue(job, key), job.id, key, attempt)


def fail_attempt(job: Job, key: str, attempt: int, worker: str, error: str) -> None:
    """Record a failed attempt; queue the next one, or dead-letter after max_attempts."""
    if attempt < job.max_attempts:
        append(job, FAILED, worker=worker, attempt=attempt, error=error)
        submit_slot(job, key, attempt + 1, f"retry {attempt + 1} of {job.max_attempts}")
    else:
        append(
            job,
            FAILED,
            worker=worker,
            attempt=attempt,
            error=error,
            message=f"dead-lettered after {attempt} attempt{'s' if attempt != 1 else ''}",
        )
        job.dead_letter = True
        job.save(update_fields=["dead_letter"])
    refresh(job)
