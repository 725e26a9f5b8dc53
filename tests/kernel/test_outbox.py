"""Events go through the transactional outbox: delivered after commit, never after rollback,
retried when a subscriber fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.kernel.events import MAX_ATTEMPTS, EventBroker
from apps.kernel.models import OutboxEvent
from apps.projects.context import Context

pytestmark = pytest.mark.django_db(transaction=True)
CTX = Context(request_id="req-9", project_name="demo")


def test_delivered_after_commit_not_before():
    broker, seen = EventBroker(), []
    broker.subscribe("data.*.created", lambda event: seen.append(event))
    with transaction.atomic():
        row = broker.emit(CTX, "data.demo_task.created", {"id": "t1"})
        assert seen == []  # not before the commit
    assert [(e.topic, e.payload, e.idempotency_key, e.request_id) for e in seen] == [
        ("data.demo_task.created", {"id": "t1"}, row.idempotency_key, "req-9")
    ]
    row.refresh_from_db()
    assert row.delivered_at is not None and row.attempts == 1


def test_rolled_back_transaction_delivers_nothing():
    broker, seen = EventBroker(), []
    broker.subscribe("data.#", seen.append)
    with pytest.raises(RuntimeError), transaction.atomic():
        broker.emit(CTX, "data.demo_task.created", {"id": "t2"})
        raise RuntimeError("the change failed")
    assert seen == [] and not OutboxEvent.objects.filter(topic="data.demo_task.created").exists()


def test_failing_subscriber_is_retried_with_the_same_key():
    broker, seen, calls = EventBroker(), [], {"n": 0}

    def flaky(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("downstream is down")
        seen.append(event)

    broker.subscribe("data.demo_task.updated", flaky, name="flaky")
    row = broker.emit(CTX, "data.demo_task.updated", {"id": "t3"})  # autocommit: delivers now
    row.refresh_from_db()
    assert (row.delivered_at, row.attempts, row.last_error) == (
        None,
        1,
        "flaky: downstream is down",
    )
    assert broker.deliver_pending() == 0  # backing off: not yet
    assert broker.deliver_pending(now=row.next_attempt_at) == 1
    row.refresh_from_db()
    assert row.delivered_at is not None and row.attempts == 2
    assert [(e.idempotency_key, e.attempt) for e in seen] == [(row.idempotency_key, 2)]
    assert broker.deliver_pending(now=timezone.now() + timedelta(days=1)) == 0  # done


def test_retries_back_off_and_the_event_dies_after_max_attempts():
    broker = EventBroker()
    broker.subscribe("data.#", lambda event: 1 / 0, name="always_fails")
    row = broker.emit(CTX, "data.demo_task.deleted", {"id": "t4"})
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        row.refresh_from_db()
        assert row.dead_at is None and row.delivered_at is None
        waits.append(round((row.next_attempt_at - timezone.now()).total_seconds() / 10))
        assert broker.deliver_pending(now=row.next_attempt_at) == 0
    row.refresh_from_db()
    assert waits[:4] == [1, 2, 4, 8]  # 10 s, 20 s, 40 s, 80 s ...
    assert row.attempts == MAX_ATTEMPTS and row.dead_at is not None
    assert row.last_error == "always_fails: division by zero"
    assert broker.deliver_pending(now=timezone.now() + timedelta(days=30)) == 0  # dead: left


def test_a_fresh_event_is_left_to_its_emitter_for_a_grace_period():
    broker, seen = EventBroker(), []
    with transaction.atomic():
        row = broker.emit(CTX, "artifact.published", {"version": 2})
        # another process retrying now must not take it: the emitter delivers after commit
        assert broker.deliver_pending() == 0
        broker.subscribe("artifact.published", seen.append)
    assert [e.payload for e in seen] == [{"version": 2}]
    row.refresh_from_db()
    assert row.attempts == 1 and row.delivered_at is not None
