"""The worker registry: who is running, with which labels and queues, and since when.

A worker (`manage.py worker`) registers once, then heartbeats every
OS_WORKER_HEARTBEAT_SECONDS with its facts. It is live while its last heartbeat is at most
OS_WORKER_DOWN_AFTER heartbeats old (3), whatever its row says: health is computed at
read time, so a dead worker is shown down even when no watcher is running.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.jobs import queues
from apps.jobs.facts import host_facts
from apps.jobs.models import Worker
from apps.jobs.targets import NAME, parse_labels


@dataclass
class Identity:
    """This process as a worker (set by the worker command before its clusters fork)."""

    name: str
    hostname: str
    labels: dict[str, str] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    pid: int = field(default_factory=os.getpid)


_current: Identity | None = None


def current_worker_name() -> str:
    """The registered name of this worker, or `<hostname>-<pid>` in a plain qcluster."""
    if _current is not None:
        return _current.name
    return f"{socket.gethostname()}-{os.getpid()}"


def down_after() -> timedelta:
    return timedelta(seconds=settings.OS_WORKER_HEARTBEAT_SECONDS * settings.OS_WORKER_DOWN_AFTER)


def is_live(worker: Worker, now=None) -> bool:
    now = now or timezone.now()
    window = timedelta(seconds=worker.heartbeat_seconds * settings.OS_WORKER_DOWN_AFTER)
    return worker.state == Worker.State.UP and now - worker.last_heartbeat <= window


def health(worker: Worker, now=None) -> str:
    """up, down (heartbeats missed or marked down) or stopped (shut down cleanly)."""
    if worker.state == Worker.State.STOPPED:
        return "stopped"
    return "up" if is_live(worker, now) else "down"


def live_workers() -> list[Worker]:
    now = timezone.now()
    return [w for w in Worker.objects.filter(state=Worker.State.UP) if is_live(w, now)]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def identity_from_env() -> Identity:
    """OS_WORKER_NAME (default: the hostname), OS_WORKER_LABELS, OS_WORKER_QUEUES."""
    hostname = socket.gethostname()
    name = os.environ.get("OS_WORKER_NAME", "").strip() or hostname
    if not NAME.match(name):
        raise ValueError(f"bad OS_WORKER_NAME {name!r}: letters, digits, '.', '_', '-'")
    queues = [q.strip() for q in os.environ.get("OS_WORKER_QUEUES", "default").split(",")]
    return Identity(
        name=name,
        hostname=hostname,
        labels=parse_labels(os.environ.get("OS_WORKER_LABELS", "")),
        queues=[q for q in queues if q] or ["default"],
    )


def register(identity: Identity) -> tuple[Worker, str | None]:
    """Claim the identity's name and record this process under it.

    A name held by a live worker of another running process on this host gets `-<pid>`
    appended. Returns the row and the state of the process that held the name before
    (None: new name), so the caller can recover what that process left unfinished."""
    global _current
    now = timezone.now()
    with transaction.atomic():
        existing = Worker.objects.select_for_update().filter(name=identity.name).first()
        if (
            existing is not None
            and is_live(existing, now)
            and existing.instance != identity.instance
            and (existing.hostname != identity.hostname or _pid_running(existing.pid))
        ):
            identity.name = f"{identity.name}-{identity.pid}"
            existing = Worker.objects.select_for_update().filter(name=identity.name).first()
        previous = existing.state if existing is not None else None
        keys = [queues.shared_queue(queue) for queue in identity.queues]
        keys.append(queues.worker_queue(identity.name))
        values = {
            "hostname": identity.hostname,
            "labels": identity.labels,
            "pid": identity.pid,
            "instance": identity.instance,
            "queues": keys,
            "heartbeat_seconds": settings.OS_WORKER_HEARTBEAT_SECONDS,
            "started_at": now,
            "last_heartbeat": now,
            "facts": host_facts(),
            "state": Worker.State.UP,
            "state_since": now,
        }
        worker, _ = Worker.objects.update_or_create(name=identity.name, defaults=values)
    _current = identity
    return worker, previous


def heartbeat(identity: Identity) -> str | None:
    """Report liveness and facts. Returns the state the row had (e.g. "down" when a
    watcher gave up on this worker meanwhile), or None when the row is gone or another
    process took the name over."""
    now = timezone.now()
    with transaction.atomic():
        worker = (
            Worker.objects.select_for_update()
            .filter(name=identity.name, instance=identity.instance)
            .first()
        )
        if worker is None:
            return None
        previous = worker.state
        worker.last_heartbeat = now
        worker.facts = host_facts()
        fields = ["last_heartbeat", "facts"]
        if worker.state != Worker.State.UP:
            worker.state, worker.state_since = Worker.State.UP, now
            fields += ["state", "state_since"]
        worker.save(update_fields=fields)
    return previous


def unregister(identity: Identity) -> None:
    """Mark this worker stopped (a clean shutdown: not down, nothing to recover)."""
    Worker.objects.filter(name=identity.name, instance=identity.instance).update(
        state=Worker.State.STOPPED, state_since=timezone.now()
    )
