"""The worker registry and the condition watcher, on registry rows (no processes)."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.jobs import registry, submit, watch
from apps.jobs.models import Worker
from apps.jobs.runner import run_delivery
from tests.jobs.conftest import add_worker, make_context, queued, statuses

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_identity(monkeypatch):
    monkeypatch.setattr(registry, "_current", None)


def identity(name: str, **labels) -> registry.Identity:
    return registry.Identity(name=name, hostname=socket.gethostname(), labels=labels,
                             queues=["default", "schema"])  # fmt: skip


def test_register_records_identity_queues_and_facts():
    me = identity("alpha", group="web.dev")
    worker, previous = registry.register(me)
    assert previous is None and registry.current_worker_name() == "alpha"
    worker.refresh_from_db()
    assert (worker.hostname, worker.pid, worker.labels) == (
        socket.gethostname(),
        os.getpid(),
        {"group": "web.dev"},
    )
    assert worker.queues == ["objectos", "objectos.q.schema", "objectos.w.alpha"]
    assert worker.facts["cpu_count"] == os.cpu_count()
    assert len(worker.facts["load_average"]) == 3
    assert worker.facts["memory"]["total"] > 0 and worker.facts["disk"]["free"] > 0
    assert registry.health(worker) == "up"

    before = worker.last_heartbeat
    assert registry.heartbeat(me) == "up"
    worker.refresh_from_db()
    assert worker.last_heartbeat > before

    registry.unregister(me)
    worker.refresh_from_db()
    assert registry.health(worker) == "stopped" and registry.live_workers() == []


def test_a_live_name_of_a_running_process_is_not_taken_over():
    registry.register(identity("alpha"))
    second = identity("alpha")
    worker, previous = registry.register(second)
    assert worker.name == f"alpha-{os.getpid()}" and previous is None
    assert Worker.objects.filter(name="alpha").exists()


def test_a_dead_process_name_is_taken_over_and_reported():
    add_worker("alpha", pid=2**22 + 12345)  # no such process on this host
    worker, previous = registry.register(identity("alpha"))
    assert worker.name == "alpha" and previous == "up"
    assert Worker.objects.count() == 1


def test_health_is_computed_from_heartbeat_age(settings):
    settings.OS_WORKER_DOWN_AFTER = 3
    fresh = add_worker("fresh", age_seconds=14)
    stale = add_worker("stale", age_seconds=16)
    assert (registry.health(fresh), registry.health(stale)) == ("up", "down")
    assert [w.name for w in registry.live_workers()] == ["fresh"]


def test_watcher_marks_down_once_rescues_jobs_and_records(
    demo, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(watch, "_listeners", [])
    watch.on_worker_change(lambda event, worker: calls.append((event, worker.name)))
    alpha = add_worker("alpha")
    add_worker("beta")
    job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t")
    monkeypatch.setattr(registry, "_current", identity("alpha"))
    from apps.jobs import runner

    # alpha takes the job and dies while running it (its outcome never arrives)
    assert runner._claim(job.id, "", 1, "alpha") is not None
    assert runner._started(job.id, "", 1, "alpha")
    Worker.objects.filter(pk=alpha.pk).update(last_heartbeat=timezone.now() - timedelta(seconds=60))

    with django_capture_on_commit_callbacks(execute=True):
        assert watch.watch() == ["alpha"]
    assert watch.watch() == []  # only once
    alpha.refresh_from_db()
    assert alpha.state == "down" and registry.health(alpha) == "down"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("submitted", 2)
    assert statuses(job)[-2:] == [("failed", "alpha", 1), ("submitted", "", 2)]
    assert job.events.order_by("id").reverse()[1].error == (
        "worker alpha went down during attempt 1"
    )
    assert queued(None, job) == [(job.id, "", 2)]  # the retry, on the shared queue
    down = AuditEvent.objects.get(action="worker.down")
    assert (down.chain, down.object_name, down.record_id, down.actor) == (
        "_system",
        "worker",
        "alpha",
        "system",
    )
    assert down.details["jobs_rescued"] == [job.id] and down.details["worker"] == "alpha"
    assert calls == [("down", "alpha")]

    # a late outcome of the given-up attempt is dropped; the retry runs elsewhere
    runner._finish(job.id, "", 1, "alpha", {"late": True}, "")
    monkeypatch.setattr(registry, "_current", identity("beta"))
    assert run_delivery(job.id, "", 2) == "completed"
    job.refresh_from_db()
    assert job.status == "completed" and job.result["worker"] == "beta"

    # alpha heartbeats again: it is up, and that is recorded too
    assert (
        registry.heartbeat(registry.Identity(name="alpha", hostname="x", instance="alpha"))
        == "down"
    )
    alpha.refresh_from_db()
    watch.worker_came_back(alpha)
    assert alpha.state == "up" and registry.health(alpha) == "up"
    assert AuditEvent.objects.filter(action="worker.up", record_id="alpha").count() == 1
    assert calls == [("down", "alpha"), ("up", "alpha")]


def test_a_failing_listener_does_not_stop_the_watcher(monkeypatch):
    monkeypatch.setattr(watch, "_listeners", [])

    def broken(event, worker):
        raise RuntimeError("notifier down")

    watch.on_worker_change(broken)
    add_worker("alpha", age_seconds=600)
    assert watch.watch() == ["alpha"]
    assert AuditEvent.objects.filter(action="worker.down").count() == 1
