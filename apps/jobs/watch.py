"""The condition watcher: notices workers going down or coming back, and rescues the jobs
a dead worker was running.

Every worker runs `watch()` with each heartbeat. A worker whose heartbeats stopped is
marked down by exactly one watcher (a conditional UPDATE decides which), which records
`worker.down` in the audit trail, tells the listeners (notifications) and fails the
worker's in-flight attempts, so they are retried elsewhere (`_any`) or when it returns
(its own queue). A worker that heartbeats again after being marked down records
`worker.up`.

Listeners: `on_worker_change(fn)` registers `fn(event, worker)` with event "down" or
"up"; upper apps (automation's notifications) register in their AppConfig.ready().
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from apps.audit import record as audit
from apps.jobs import lifecycle
from apps.jobs.models import Job, Worker
from apps.jobs.registry import health
from apps.objectql.transactions import write_transaction

logger = logging.getLogger("objectos.jobs")

Listener = Callable[[str, Worker], None]
_listeners: list[Listener] = []


def on_worker_change(listener: Listener) -> Listener:
    """Call `listener(event, worker)` when a worker goes "down" or comes back "up"."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _announce(event: str, worker: Worker, details: dict) -> None:
    with write_transaction():
        audit.record(
            None,
            f"worker.{event}",
            object_name="worker",
            record_id=worker.name[:64],
            details={"worker": worker.name, **details},
        )
    logger.warning("worker %s is %s (%s)", worker.name, event, details)
    for listener in list(_listeners):
        try:
            listener(event, worker)
        except Exception:  # a failing notifier must not stop the watcher
            logger.exception("worker %s listener %r failed", event, listener)


def worker_came_back(worker: Worker) -> None:
    _announce("up", worker, {"hostname": worker.hostname, "pid": worker.pid})


def watch() -> list[str]:
    """Mark stale workers down (once each) and rescue their jobs; returns their names."""
    now = timezone.now()
    marked = []
    for worker in Worker.objects.filter(state=Worker.State.UP):
        if health(worker, now) != "down":
            continue
        taken = Worker.objects.filter(
            pk=worker.pk, state=Worker.State.UP, last_heartbeat=worker.last_heartbeat
        ).update(state=Worker.State.DOWN, state_since=now)
        if not taken:
            continue  # another watcher was first, or it heartbeat meanwhile
        marked.append(worker.name)
        rescued = rescue(worker.name, f"worker {worker.name} went down")
        _announce(
            "down",
            worker,
            {
                "hostname": worker.hostname,
                "pid": worker.pid,
                "last_heartbeat": worker.last_heartbeat.isoformat(),
                "jobs_rescued": rescued,
            },
        )
    return marked


def rescue(worker_name: str, reason: str) -> list[str]:
    """Fail the attempts `worker_name` acknowledged or started and did not finish; each is
    retried (or dead-lettered) like any other failed attempt. Returns the job ids."""
    candidates = Job.objects.filter(
        status__in=lifecycle.IN_FLIGHT,
        events__worker=worker_name,
        events__status__in=lifecycle.IN_FLIGHT,
    ).values_list("pk", flat=True)
    rescued = []
    for job_id in sorted(set(candidates)):
        with lifecycle.locked(job_id) as job:
            for slot in lifecycle.slots(job).values():
                if slot.status in lifecycle.IN_FLIGHT and slot.worker == worker_name:
                    error = f"{reason} during attempt {slot.attempt}"
                    lifecycle.fail_attempt(job, slot.key, slot.attempt, worker_name, error)
                    rescued.append(job.id)
    return rescued
