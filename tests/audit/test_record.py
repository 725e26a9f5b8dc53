"""Every change and every sign-in writes exactly one audit row with who, where and what."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.security.models import ApiKey, hash_secret
from tests import factories
from tests.audit.conftest import USER_AGENT, client_for

pytestmark = pytest.mark.django_db

NOTE = "/api/v1/data/au_note"


def rows(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain="audit", **filters).order_by("seq"))


def who(event: AuditEvent) -> tuple:
    return (
        event.actor,
        event.actor_user_id,
        event.actor_api_key_id,
        event.request_id,
        event.ip,
        event.user_agent,
    )


def test_create_update_delete_write_one_row_each(admin_client, admin):
    created = admin_client.post(
        NOTE,
        {"title": "First", "amount": 3, "api_token": "sk_live_12345678", "pin": "s3cret-pin"},
        format="json",
        HTTP_X_REQUEST_ID="req-create-1",
    )
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    stamp = created.json()["record"]["created_at"]
    (create,) = rows(record_id=record_id)
    assert (create.action, create.object_name, create.details) == ("create", "au_note", {})
    assert who(create) == (
        "admin@audit.test",
        admin.pk,
        None,
        "req-create-1",
        "127.0.0.1",
        USER_AGENT,
    )
    created_at = create.changes[2][2]
    assert created_at.startswith(stamp[:23])  # the row keeps microseconds, the wire ms
    assert create.changes == [
        ["amount", None, 3.0],
        ["api_token", None, "[redacted]"],
        ["created_at", None, created_at],
        ["created_by", None, admin.pk],
        ["owner_id", None, admin.pk],
        ["pin", None, "[redacted]"],
        ["title", None, "First"],
        ["updated_at", None, created_at],
        ["updated_by", None, admin.pk],
    ]

    updated = admin_client.patch(
        f"{NOTE}/{record_id}",
        {"title": "Second", "pin": "other-pin", "api_token": "sk_live_87654321", "amount": 3},
        format="json",
        HTTP_X_REQUEST_ID="req-update-1",
    )
    assert updated.status_code == 200, updated.content
    (_, update) = rows(record_id=record_id)
    assert update.action == "update"
    assert update.request_id == "req-update-1"
    assert update.changes == [  # amount is unchanged, so absent
        ["api_token", "[redacted]", "[redacted]"],
        ["pin", "[redacted]", "[redacted]"],
        ["title", "First", "Second"],
    ]

    deleted = admin_client.delete(f"{NOTE}/{record_id}", HTTP_X_REQUEST_ID="req-delete-1")
    assert deleted.status_code == 200, deleted.content
    events = rows(record_id=record_id)
    assert [e.action for e in events] == ["create", "update", "delete"]
    delete = events[2]
    assert who(delete) == (
        "admin@audit.test",
        admin.pk,
        None,
        "req-delete-1",
        "127.0.0.1",
        USER_AGENT,
    )
    updated_at = delete.changes[7][1]
    assert delete.changes == [
        ["amount", 3.0, None],
        ["api_token", "[redacted]", None],
        ["created_at", created_at, None],
        ["created_by", admin.pk, None],
        ["id", record_id, None],
        ["owner_id", admin.pk, None],
        ["title", "Second", None],
        ["updated_at", updated_at, None],
        ["updated_by", admin.pk, None],
    ]
    text = str([e.changes for e in events])
    assert "sk_live" not in text and "s3cret-pin" not in text and "other-pin" not in text


def test_an_unchanged_update_writes_no_row(admin_client):
    record_id = admin_client.post(NOTE, {"title": "Same"}, format="json").json()["id"]
    same = admin_client.patch(f"{NOTE}/{record_id}", {"title": "Same"}, format="json")
    assert same.status_code == 200
    assert [e.action for e in rows(record_id=record_id)] == ["create"]


def test_api_key_actor_is_stored(project, admin):
    prefix, raw = ApiKey.generate()
    key = ApiKey.objects.create(
        prefix=prefix, key_hash=hash_secret(raw), name="ci", user=admin, project=project
    )
    client = client_for(project, HTTP_X_API_KEY=raw, REMOTE_ADDR="203.0.113.7")
    created = client.post(NOTE, {"title": "By key"}, format="json", HTTP_X_REQUEST_ID="req-key")
    assert created.status_code == 201, created.content
    (event,) = rows(record_id=created.json()["id"])
    assert who(event) == (
        "admin@audit.test",
        admin.pk,
        key.pk,
        "req-key",
        "203.0.113.7",
        USER_AGENT,
    )


def test_a_validation_error_leaves_no_row(admin_client):
    before = AuditEvent.objects.count()
    response = admin_client.post(NOTE, {"title": "x" * 41}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert AuditEvent.objects.count() == before


def test_a_batch_failing_on_its_second_record_leaves_no_row(admin_client, project):
    before = AuditEvent.objects.count()
    response = admin_client.post(
        f"{NOTE}/createMany",
        {"records": [{"title": "kept?"}, {"title": "x" * 50}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"][0]["field"] == "records[1].title"
    assert AuditEvent.objects.count() == before
    assert admin_client.get(NOTE, {"title": "kept?"}).json()["total"] == 0


def test_a_create_refused_after_the_write_leaves_only_the_denial(admin_client, editor_client):
    """The row-level `check` runs after the INSERT; its 403 undoes the row and its audit."""
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = editor_client.post(NOTE, {"title": "forbidden"}, format="json")
    assert response.status_code == 403
    new = AuditEvent.objects.exclude(pk__in=before)
    assert [e.action for e in new] == ["permission.denied"]
    assert admin_client.get(NOTE, {"title": "forbidden"}).json()["total"] == 0


def test_sign_in_and_failed_sign_in(project):
    user = factories.make_user("signer@audit.test", project, permission_sets=["note_editor"])
    client = client_for(project)
    ok = client.post(
        "/api/v1/auth/sign-in/email",
        {"email": "Signer@audit.test", "password": factories.PASSWORD},
        format="json",
        HTTP_X_REQUEST_ID="req-sign-in",
    )
    assert ok.status_code == 200, ok.content
    (event,) = rows(action="auth.sign_in")
    assert who(event) == (
        "signer@audit.test",
        user.pk,
        None,
        "req-sign-in",
        "127.0.0.1",
        USER_AGENT,
    )
    assert (event.object_name, event.record_id, event.changes, event.details) == (
        "",
        "",
        [],
        {"method": "email"},
    )

    failed = client.post(
        "/api/v1/auth/sign-in/email",
        {"email": "signer@audit.test", "password": "wrong-password"},
        format="json",
        HTTP_X_REQUEST_ID="req-sign-in-2",
    )
    assert failed.status_code == 401
    (event,) = rows(action="auth.sign_in_failed")
    assert who(event) == ("", None, None, "req-sign-in-2", "127.0.0.1", USER_AGENT)
    assert event.details == {"email": "signer@audit.test"}
    assert "wrong-password" not in str(event.details)
