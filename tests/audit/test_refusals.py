"""Every 403 writes one `permission.denied` row, every 401 for a presented-but-invalid
credential one `auth.invalid_credential` row, from the central exception handler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.verify import verify_chain
from apps.security.models import ApiKey, AuthToken, hash_secret
from tests import factories
from tests.audit.conftest import USER_AGENT, audit_artifact, client_for

NOTE = "/api/v1/data/au_note"


def new_rows(before: set[int]) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(pk__in=before).order_by("chain", "seq"))


def seen() -> set[int]:
    return set(AuditEvent.objects.values_list("pk", flat=True))


@pytest.mark.django_db
class TestPermissionDenied:
    def test_a_refused_delete_names_object_and_record(self, admin_client, editor_client, editor):
        record_id = admin_client.post(NOTE, {"title": "Keep"}, format="json").json()["id"]
        before = seen()
        response = editor_client.delete(f"{NOTE}/{record_id}", HTTP_X_REQUEST_ID="req-no-delete")
        assert response.status_code == 403
        assert response.json() == {"error": "you may not delete au_note", "code": "FORBIDDEN"}
        (denial,) = new_rows(before)
        assert (
            denial.chain,
            denial.action,
            denial.object_name,
            denial.record_id,
            denial.actor,
            denial.actor_user_id,
            denial.request_id,
            denial.ip,
            denial.user_agent,
            denial.changes,
        ) == (
            "audit",
            "permission.denied",
            "au_note",
            record_id,
            "editor@audit.test",
            editor.pk,
            "req-no-delete",
            "127.0.0.1",
            USER_AGENT,
            [],
        )
        assert denial.details == {
            "error": "you may not delete au_note",
            "method": "DELETE",
            "path": f"{NOTE}/{record_id}",
        }
        assert admin_client.get(f"{NOTE}/{record_id}").status_code == 200

    def test_a_refused_field_names_the_fields(self, admin_client, editor_client):
        record_id = admin_client.post(NOTE, {"title": "Keep"}, format="json").json()["id"]
        before = seen()
        response = editor_client.patch(f"{NOTE}/{record_id}", {"amount": 9}, format="json")
        assert response.status_code == 403
        (denial,) = new_rows(before)
        assert (denial.action, denial.object_name, denial.record_id) == (
            "permission.denied",
            "au_note",
            record_id,
        )
        assert denial.details == {
            "error": "you may not set amount",
            "method": "PATCH",
            "path": f"{NOTE}/{record_id}",
            "fields": [
                {"field": "amount", "code": "not_editable", "message": "this field cannot be set"}
            ],
        }
        assert admin_client.get(f"{NOTE}/{record_id}").json()["record"]["amount"] is None

    @pytest.mark.parametrize(
        ("method", "path", "body", "error"),
        [
            ("post", "/api/v1/data/au_budget", {"name": "x"}, "you may not create au_budget"),
            ("get", "/api/v1/data/au_budget", None, "you may not read au_budget"),
            (
                "post",
                NOTE,
                {"title": "forbidden"},
                "the au_note record would violate a row-level security check",
            ),
        ],
    )
    def test_one_row_per_refusal(self, editor_client, method, path, body, error):
        before = seen()
        response = getattr(editor_client, method)(path, body, format="json")
        assert response.status_code == 403
        (denial,) = new_rows(before)
        assert (denial.action, denial.object_name, denial.record_id) == (
            "permission.denied",
            path.rsplit("/", 1)[1],
            "",
        )
        assert denial.details == {"error": error, "method": method.upper(), "path": path}

    def test_other_errors_are_not_recorded(self, editor_client, admin_client):
        before = seen()
        assert editor_client.get(f"{NOTE}/nope").status_code == 404
        assert editor_client.post(NOTE, {"title": "x" * 41}, format="json").status_code == 400
        assert admin_client.get("/api/v1/data/au_nothing").status_code == 404
        assert new_rows(before) == []


@pytest.mark.django_db
class TestInvalidCredential:
    def test_a_bad_bearer_token(self, project):
        before = seen()
        client = client_for(project, HTTP_AUTHORIZATION="Bearer ost_nope")
        response = client.get(NOTE, HTTP_X_REQUEST_ID="req-bad-token")
        assert response.status_code == 401
        (row,) = new_rows(before)
        assert (
            row.chain,
            row.action,
            row.object_name,
            row.actor,
            row.actor_user_id,
            row.request_id,
            row.ip,
        ) == (
            "audit",
            "auth.invalid_credential",
            "au_note",
            "",
            None,
            "req-bad-token",
            "127.0.0.1",
        )
        assert row.details == {
            "error": "invalid or expired token",
            "method": "GET",
            "path": NOTE,
            "credential": "bearer",
        }
        assert "ost_nope" not in str(row.details)

    def test_an_expired_token_and_another_projects_token(self, project, other_project, editor):
        expired, foreign = AuthToken.generate(), AuthToken.generate()
        AuthToken.objects.create(
            key_hash=hash_secret(expired),
            user=editor,
            project=project,
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        AuthToken.objects.create(
            key_hash=hash_secret(foreign),
            user=editor,
            project=other_project,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        before = seen()
        for token in (expired, foreign):
            client = client_for(project, HTTP_AUTHORIZATION=f"Bearer {token}")
            assert client.get(NOTE).status_code == 401
        errors = [row.details["error"] for row in new_rows(before)]
        assert errors == ["invalid or expired token", "token is not valid for this project"]

    def test_a_bad_api_key_keeps_only_its_public_prefix(self, project):
        before = seen()
        client = client_for(project, HTTP_X_API_KEY="osk_abcd1234_secretpart")
        assert client.post(NOTE, {"title": "x"}, format="json").status_code == 401
        (row,) = new_rows(before)
        assert row.details == {
            "error": "invalid API key",
            "method": "POST",
            "path": NOTE,
            "credential": "api_key",
            "keyPrefix": "abcd1234",
        }
        assert "secretpart" not in str(row.details)

    def test_a_revoked_api_key(self, project, editor):
        prefix, raw = ApiKey.generate()
        ApiKey.objects.create(
            prefix=prefix,
            key_hash=hash_secret(raw),
            user=editor,
            project=project,
            revoked_at=timezone.now(),
        )
        before = seen()
        assert client_for(project, HTTP_X_API_KEY=raw).get(NOTE).status_code == 401
        (row,) = new_rows(before)
        assert (row.action, row.details["keyPrefix"]) == ("auth.invalid_credential", prefix)

    def test_anonymous_requests_write_nothing(self, project):
        before = seen()
        anonymous = client_for(project)
        assert anonymous.get(NOTE).status_code == 401
        assert anonymous.post(NOTE, {"title": "x"}, format="json").status_code == 401
        assert anonymous.get("/api/v1/audit").status_code == 401
        assert new_rows(before) == []


def _count(table: str, **where) -> int:
    conditions = " AND ".join(f"{name} = %s" for name in where) or "1 = 1"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE {conditions}', list(where.values()))
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_denial_commits_while_the_refused_change_rolls_back():
    """No test transaction here: what is visible afterwards was committed."""
    project = factories.publish_artifact("auditcommit", audit_artifact())
    admin = factories.make_user("admin@auditcommit.test", project, superuser=True)
    editor = factories.make_user(
        "editor@auditcommit.test", project, permission_sets=["note_editor"]
    )
    table = "auditcommit__au_note"
    before = seen()

    # the row-level check fails AFTER the INSERT and its audit row, in the same transaction
    refused = client_for(project, editor).post(NOTE, {"title": "forbidden"}, format="json")
    assert refused.status_code == 403
    assert _count(table, title="forbidden") == 0
    (denial,) = new_rows(before)
    assert (denial.chain, denial.action, denial.actor) == (
        "auditcommit",
        "permission.denied",
        "editor@auditcommit.test",
    )

    # a batch failing on its second record: nothing of it stays, data or audit
    failed = client_for(project, admin).post(
        f"{NOTE}/createMany", {"records": [{"title": "one"}, {"title": "x" * 50}]}, format="json"
    )
    assert failed.status_code == 400
    assert _count(table) == 0
    assert new_rows(before) == [denial]

    # a committed change always has its row
    created = client_for(project, editor).post(NOTE, {"title": "fine"}, format="json")
    assert created.status_code == 201
    assert [(r.action, r.record_id) for r in new_rows(before)] == [
        ("permission.denied", ""),
        ("create", created.json()["id"]),
    ]
    assert verify_chain("auditcommit").ok
