"""Helpers of the jobs tests: contexts of the demo project, worker rows, delivery runs."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from apps.jobs import registry
from apps.jobs.models import Job, Worker
from apps.kernel.cache import kernels
from apps.projects.context import Context
from tests import factories


def make_context(project, user=None, request_id: str = "req-jobs-1") -> Context:
    kernel = kernels.get_version(project.name, project.published_version_id)
    return Context(
        request_id=request_id,
        project_id=project.id,
        project_name=project.name,
        kernel=kernel,
        user=user,
        is_system=user is None,
    )


def add_worker(name: str, labels: dict | None = None, age_seconds: float = 0.0, **extra) -> Worker:
    """A registry row as a worker process would write it (for tests without processes)."""
    now = timezone.now()
    seen = now - timedelta(seconds=age_seconds)
    return Worker.objects.create(
        name=name,
        hostname=extra.pop("hostname", socket.gethostname()),
        labels=labels or {},
        pid=extra.pop("pid", 999999),
        instance=extra.pop("instance", name),
        queues=extra.pop("queues", [f"objectos.w.{name}"]),
        heartbeat_seconds=extra.pop("heartbeat_seconds", 5.0),
        started_at=seen,
        last_heartbeat=seen,
        state=extra.pop("state", Worker.State.UP),
        state_since=seen,
        **extra,
    )


def queued(key: str | None, *jobs: Job) -> list[tuple]:
    """The deliveries of `jobs` on the ORM broker's queue `key` (default: the shared
    queue): (job id, slot, attempt) per queued task, oldest first. Rows other tests left
    behind are ignored."""
    ids = {job.id for job in jobs}
    rows = OrmQ.objects.filter(key=key or Conf.CLUSTER_NAME).order_by("id")
    deliveries = [tuple(SignedPackage.loads(row.payload)["args"]) for row in rows]
    return [delivery for delivery in deliveries if delivery[0] in ids]


def statuses(job: Job) -> list[tuple[str, str, int]]:
    return [(e.status, e.worker, e.attempt) for e in job.events.order_by("id")]


@pytest.fixture
def as_worker(monkeypatch):
    """`as_worker(name)`: this test process plays the worker `name` (current_worker_name)."""

    def play(name: str) -> None:
        monkeypatch.setattr(
            registry, "_current", registry.Identity(name=name, hostname=socket.gethostname())
        )

    monkeypatch.setattr(registry, "_current", None)
    return play


@pytest.fixture
def member(demo):
    """A demo user without any permission set: sees only their own jobs."""
    return factories.make_user("member@demo.test", demo)
