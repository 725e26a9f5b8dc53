"""Submitting a job, and retrying one by hand.

`submit` writes the Job row and its `submitted` events in the caller's transaction and
enqueues on django-q2 only after that transaction commits: arguments are ids and plain
JSON, never objects, so the worker rebuilds everything from the database.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from apps.jobs import lifecycle, queues, registry
from apps.jobs.exceptions import InvalidJob, JobNotRetryable
from apps.jobs.models import Job
from apps.jobs.targets import matching, parse_target
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context
from apps.projects.models import Project

KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
QUEUE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _check(func: str, kwargs: dict, kind: str, queue: str, max_attempts: int) -> dict:
    if not KIND.match(kind or ""):
        raise InvalidJob(f"invalid job kind {kind!r}", field="kind")
    if not QUEUE.match(queue or ""):
        raise InvalidJob(f"invalid queue {queue!r}", field="queue")
    if not isinstance(max_attempts, int) or not 1 <= max_attempts <= 100:
        raise InvalidJob("max_attempts must be an integer from 1 to 100", field="max_attempts")
    try:
        if not callable(import_string(func)):
            raise ImportError(func)
    except ImportError:
        raise InvalidJob(f"job function {func!r} cannot be imported", field="func")
    if not isinstance(kwargs, dict):
        raise InvalidJob("job arguments must be an object", field="kwargs")
    try:  # plain JSON only: what goes in is exactly what the worker gets
        return orjson.loads(orjson.dumps(kwargs))
    except TypeError as error:
        raise InvalidJob(f"job arguments are not plain JSON: {error}", field="kwargs")


def _project_id(ctx: Context) -> int | None:
    """The context's project; a context that names it only (or only has its kernel) too."""
    if ctx.project_id is not None:
        return ctx.project_id
    name = ctx.project_name or getattr(ctx.kernel, "project_name", "")
    return Project.objects.filter(name=name).values_list("pk", flat=True).first() if name else None


def _unserved(queue: str) -> str:
    """A note for the `submitted` event when no live worker serves the queue (yet)."""
    key = queues.shared_queue(queue)
    if any(key in (worker.queues or ()) for worker in registry.live_workers()):
        return ""
    return f"no registered worker serves queue {queue!r} yet"


def _create(**values: Any) -> tuple[Job, bool]:
    """(the new Job row, True); with a key another transaction just took, (that job, False)."""
    idempotency_key = values["idempotency_key"]
    if idempotency_key is None:
        return Job.objects.create(**values), True
    try:
        with transaction.atomic():
            return Job.objects.create(**values), True
    except IntegrityError:
        return Job.objects.get(idempotency_key=idempotency_key), False


def submit(
    ctx: Context,
    func: str,
    kwargs: dict[str, Any],
    *,
    kind: str,
    target: str = "_any",
    max_attempts: int = 3,
    queue: str = "default",
    idempotency_key: str | None = None,
) -> Job:
    """Record a job for `func(ctx, **kwargs)` and queue it after the caller's commit.

    `_any` goes to the shared queue of `queue`; any other target gets one delivery per
    matching live worker, on that worker's own queue. When nobody matches, the job is
    `skipped` with the reason, and nothing is queued. With an `idempotency_key` that an
    earlier job holds, that job is returned and nothing new is recorded or queued."""
    kwargs = _check(func, kwargs, kind, queue, max_attempts)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 200:
        raise InvalidJob("idempotency_key must be 1 to 200 characters", field="idempotency_key")
    parsed = parse_target(target)
    kernel = ctx.kernel
    with write_transaction():
        if idempotency_key is not None:
            earlier = Job.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return earlier
        project_id = _project_id(ctx)
        job, created = _create(
            idempotency_key=idempotency_key,
            kind=kind,
            func=func,
            kwargs=kwargs,
            target=target.strip(),
            queue=queue,
            project_id=project_id,
            version_id=getattr(kernel, "version_id", None),
            user_id=ctx.user_id,
            is_system=ctx.user_id is None,
            api_key_id=ctx.api_key_id,
            request_id=ctx.request_id or "",
            max_attempts=max_attempts,
        )
        if not created:
            return job  # a concurrent submit with the same key won
        if parsed.kind == "any":
            lifecycle.submit_slot(job, "", 1, _unserved(queue))
        else:
            workers = matching(parsed, registry.live_workers())
            if not workers:
                lifecycle.append(
                    job, lifecycle.SKIPPED, message=f"no live worker matches target {target!r}"
                )
            for worker in workers:
                lifecycle.submit_slot(job, worker.name, 1)
        lifecycle.refresh(job)
    return job


def retry(job_id: str) -> Job:
    """Run a failed, partly failed or skipped job again: one more attempt for each failed
    slot (a skipped job resolves its target again). Anything else is 409 CONFLICT."""
    with lifecycle.locked(job_id) as job:
        if job.status not in lifecycle.RETRYABLE:
            raise JobNotRetryable(f"job {job.id} is {job.status}; only failed jobs are retried")
        if job.status == lifecycle.SKIPPED:
            workers = matching(parse_target(job.target), registry.live_workers())
            if not workers:
                raise JobNotRetryable(f"no live worker matches target {job.target!r}")
            for worker in workers:
                lifecycle.submit_slot(job, worker.name, 1, "retried")
        else:
            states = lifecycle.slots(job)
            failed = [s for s in states.values() if s.status == lifecycle.FAILED]
            for slot in failed:
                lifecycle.submit_slot(job, slot.key, slot.attempt + 1, "retried")
            job.max_attempts = max(job.max_attempts, max(s.attempt for s in failed) + 1)
        job.dead_letter = False
        job.save(update_fields=["max_attempts", "dead_letter"])
        return lifecycle.refresh(job)
