"""Data events from objectql writes: emitted in the write transaction only when wanted,
delivered after commit to the subscribers of that project's kernel only."""

from __future__ import annotations

import pytest
from django.db.models import Max

from apps.kernel.cache import kernels
from apps.kernel.events import broker
from apps.kernel.models import OutboxEvent
from apps.objectql.exceptions import ValidationFailed
from tests import factories

NOTES = {
    "manifest": {"id": "kev.test", "namespace": "kev", "version": "1.0.0"},
    "objects": [{"name": "kev_note", "fields": {"title": {"type": "text", "required": True}}}],
}


def kernel_of(project):
    return kernels.get_version(project.name, project.published_version_id)


@pytest.fixture(scope="session")
def other_session(publish_session):
    return publish_session("kev", NOTES)


@pytest.fixture
def other(other_session, db):
    other_session.refresh_from_db()
    return other_session


@pytest.fixture(autouse=True)
def _outbox_start(db):
    """Events committed by earlier tests (other apps' transactional tests) are left out."""
    global _START
    _START = OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0


_START = 0


def data_events():
    return OutboxEvent.objects.filter(topic__startswith="data.", id__gt=_START)


def test_no_subscriber_no_outbox_row(demo, demo_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = demo_client.post("/api/v1/data/demo_customer", {"name": "Quiet"}, format="json")
    assert response.status_code == 201
    assert callbacks == [] and not data_events().exists()


def test_created_updated_deleted_events_after_commit(
    demo, demo_client, django_capture_on_commit_callbacks
):
    seen = []
    kernel_of(demo).subscribe("data.demo_customer.*", seen.append, name="test")
    with django_capture_on_commit_callbacks(execute=True):
        response = demo_client.post(
            "/api/v1/data/demo_customer",
            {"name": "Acme", "tier": "gold", "email": "ops@acme.test"},
            format="json",
            HTTP_X_REQUEST_ID="req-ev-1",
        )
        assert seen == []  # not before the commit
    record_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        demo_client.patch(
            f"/api/v1/data/demo_customer/{record_id}", {"tier": "platinum"}, format="json"
        )
    with django_capture_on_commit_callbacks(execute=True):
        demo_client.delete(f"/api/v1/data/demo_customer/{record_id}")
    assert [e.topic for e in seen] == [
        "data.demo_customer.created",
        "data.demo_customer.updated",
        "data.demo_customer.deleted",
    ]
    created, updated, deleted = (e.payload for e in seen)
    user_id = factories.make_user("admin@demo.test").pk
    assert {k: created[k] for k in ("object", "id", "previous", "user_id", "request_id")} == {
        "object": "demo_customer",
        "id": record_id,
        "previous": None,
        "user_id": user_id,
        "request_id": "req-ev-1",
    }
    assert {k: created["record"][k] for k in ("id", "name", "tier", "email", "owner_id")} == {
        "id": record_id,
        "name": "Acme",
        "tier": "gold",
        "email": "ops@acme.test",
        "owner_id": user_id,
    }
    assert created["record"]["created_at"].endswith("Z")
    assert (updated["previous"]["tier"], updated["record"]["tier"]) == ("gold", "platinum")
    assert updated["record"]["name"] == "Acme"
    assert deleted["record"] is None and deleted["previous"]["tier"] == "platinum"
    assert len({e.idempotency_key for e in seen}) == 3
    assert [e.context.context_id.startswith(e.request_id + ".") for e in seen] == [True] * 3
    assert data_events().filter(delivered_at__isnull=False, attempts=1).count() == 3


def test_refused_write_emits_nothing(demo, demo_client, django_capture_on_commit_callbacks):
    seen = []
    kernel = kernel_of(demo)
    kernel.subscribe("data.#", seen.append)

    def refuse(ctx, runtime, event, record, previous):
        raise ValidationFailed("no", field="name")

    kernel.objects["demo_customer"].validators.append(refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = demo_client.post("/api/v1/data/demo_customer", {"name": "X"}, format="json")
    assert response.status_code == 400 and seen == []
    assert not data_events().exists()


def test_cascade_delete_announces_the_children(
    demo, demo_client, django_capture_on_commit_callbacks
):
    seen = []
    kernel_of(demo).subscribe("data.demo_task.deleted", seen.append)
    customer = demo_client.post("/api/v1/data/demo_customer", {"name": "C"}, format="json")
    project = demo_client.post(
        "/api/v1/data/demo_project",
        {"name": "P", "customer": customer.json()["id"]},
        format="json",
    ).json()["id"]
    tasks = sorted(
        demo_client.post(
            "/api/v1/data/demo_task", {"title": title, "project": project}, format="json"
        ).json()["id"]
        for title in ("one", "two")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = demo_client.delete(f"/api/v1/data/demo_project/{project}")
    assert response.status_code == 200
    assert sorted((e.payload["id"], e.payload["previous"]["project"]) for e in seen) == [
        (tasks[0], project),
        (tasks[1], project),
    ]
    assert sorted(e.payload["previous"]["title"] for e in seen) == ["one", "two"]


def test_projects_see_only_their_own_events(
    demo, other, demo_client, django_capture_on_commit_callbacks
):
    demo_seen, other_seen, everywhere = [], [], []
    kernel_of(demo).subscribe("data.#", demo_seen.append)
    kernel_of(other).subscribe("data.#", other_seen.append)
    subscription = broker.subscribe("data.*.created", everywhere.append)
    admin = factories.make_user("admin@kev.test", other, superuser=True)
    other_client = factories.api_client(other, admin)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            other_client.post("/api/v1/data/kev_note", {"title": "hi"}, format="json")
            demo_client.post("/api/v1/data/demo_customer", {"name": "D"}, format="json")
    finally:
        broker.unsubscribe(subscription)
    assert [e.topic for e in other_seen] == ["data.kev_note.created"]
    assert [e.topic for e in demo_seen] == ["data.demo_customer.created"]
    assert sorted((e.project, e.topic) for e in everywhere) == [
        ("demo", "data.demo_customer.created"),
        ("kev", "data.kev_note.created"),
    ]


def test_a_retry_reaches_the_project_kernel_subscribers(
    demo, demo_client, django_capture_on_commit_callbacks
):
    """A failed in-process delivery is retried later (another process, another kernel
    instance): the retry finds the project's kernel and rebuilds the actor's context."""
    calls = []

    def flaky(event):
        calls.append((event.attempt, event.context.user_id, event.context.context_id))
        if event.attempt == 1:
            raise ConnectionError("downstream is down")

    kernel_of(demo).subscribe("data.demo_customer.created", flaky, name="flaky")
    with django_capture_on_commit_callbacks(execute=True):
        demo_client.post("/api/v1/data/demo_customer", {"name": "R"}, format="json")
    (row,) = data_events()
    assert (row.attempts, row.last_error) == (1, "flaky: downstream is down")
    assert broker.deliver_pending(now=row.next_attempt_at) == 1
    user_id = factories.make_user("admin@demo.test").pk
    assert [(a, u) for a, u, _ in calls] == [(1, user_id), (2, user_id)]
    assert calls[1][2] == f"{row.request_id}.1"  # a child of the rebuilt root context
