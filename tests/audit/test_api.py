"""GET /api/v1/audit: the project's trail, newest first, for audit readers only."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.test import override_settings

from apps.audit import record as audit
from apps.audit.models import AuditEvent
from apps.projects.context import Context
from tests import factories
from tests.audit.conftest import USER_AGENT, client_for

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit"
KEYS = {
    "id", "seq", "time", "action", "object", "recordId", "actor", "actorUserId", "apiKeyId",
    "requestId", "ip", "userAgent", "changes", "details",
}  # fmt: skip


def at(moment: str):
    """Write audit rows as if at `moment` (UTC)."""
    return mock.patch("django.utils.timezone.now", return_value=datetime.fromisoformat(moment))


def append(project, action: str, moment: str, user=None, **values) -> AuditEvent:
    ctx = Context(
        request_id=f"req-{action}-{moment}",
        project_id=project.pk,
        project_name=project.name,
        user=user,
        ip="198.51.100.1",
        user_agent=USER_AGENT,
    )
    with at(moment):
        return audit.record(ctx, action, **values)


@pytest.fixture
def trail(project, admin, editor) -> list[AuditEvent]:
    """Five rows of the audit project on three days, oldest first."""
    return [
        append(project, "create", "2030-01-01T09:00:00+00:00", admin, object_name="au_note",
               record_id="n1", changes=[["title", None, "A"]]),
        append(project, "update", "2030-01-01T10:00:00+00:00", editor, object_name="au_note",
               record_id="n1", changes=[["title", "A", "B"]]),
        append(project, "auth.sign_in", "2030-01-02T08:00:00+00:00", editor,
               details={"method": "email"}),
        append(project, "create", "2030-01-02T12:30:00+00:00", editor, object_name="au_budget",
               record_id="b1"),
        append(project, "delete", "2030-01-03T00:00:00+00:00", admin, object_name="au_note",
               record_id="n1"),
    ]  # fmt: skip


def get(client, **params):
    response = client.get(AUDIT, {"since": "2030-01-01", **params})
    assert response.status_code == 200, response.content
    return response.json()


def seqs(body) -> list[int]:
    return [row["seq"] for row in body["records"]]


def test_rows_newest_first_in_the_wire_format(admin_client, trail, admin, editor):
    body = get(admin_client)
    assert body["total"] == 5 and body["hasMore"] is False
    assert seqs(body) == [e.seq for e in reversed(trail)]
    assert all(set(row) == KEYS for row in body["records"])
    update = trail[1]
    assert body["records"][3] == {
        "id": update.pk,
        "seq": update.seq,
        "time": "2030-01-01T10:00:00Z",
        "action": "update",
        "object": "au_note",
        "recordId": "n1",
        "actor": "editor@audit.test",
        "actorUserId": editor.pk,
        "apiKeyId": None,
        "requestId": "req-update-2030-01-01T10:00:00+00:00",
        "ip": "198.51.100.1",
        "userAgent": USER_AGENT,
        "changes": [["title", "A", "B"]],
        "details": {},
    }


def test_the_whole_trail_without_filters(admin_client, trail):
    response = admin_client.get(AUDIT)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == AuditEvent.objects.filter(chain="audit").count()
    assert body["records"][0]["seq"] == trail[-1].seq


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"object": "au_note"}, [4, 1, 0]),
        ({"object": "au_note", "record": "n1"}, [4, 1, 0]),
        ({"record": "b1"}, [3]),
        ({"actor": "editor@audit.test"}, [3, 2, 1]),
        ({"actor": "EDITOR@audit.test"}, [3, 2, 1]),
        ({"action": "create"}, [3, 0]),
        ({"action": "create,delete"}, [4, 3, 0]),
        ({"action": "auth.*"}, [2]),
        ({"since": "2030-01-02"}, [4, 3, 2]),
        ({"since": "2030-01-02T12:30:00Z"}, [4, 3]),
        ({"since": "2030-01-02T13:30:00+01:00"}, [4, 3]),
        ({"since": "2030-01-02T13:30:00 01:00"}, [4, 3]),  # an unencoded "+"
        ({"since": "2030-01-01T10:00:00"}, [4, 3, 2, 1]),  # no offset: UTC
        ({"until": "2030-01-02"}, [3, 2, 1, 0]),  # a bare date includes its whole day
        ({"until": "2030-01-01T10:00:00Z"}, [1, 0]),  # inclusive
        ({"since": "2030-01-02", "until": "2030-01-02"}, [3, 2]),
        ({"object": "au_note", "actor": "editor@audit.test"}, [1]),
        ({"object": "nothing"}, []),
        ({"object": ""}, [4, 3, 2, 1, 0]),  # empty: no filter
    ],
)
def test_filters(admin_client, trail, params, expected):
    body = get(admin_client, **params)
    assert seqs(body) == [trail[i].seq for i in expected]
    assert body["total"] == len(expected)


def test_actor_by_user_id(admin_client, trail, editor):
    assert seqs(get(admin_client, actor=str(editor.pk))) == [trail[i].seq for i in (3, 2, 1)]


def test_pagination(admin_client, trail):
    first = get(admin_client, top="2")
    assert (seqs(first), first["total"], first["hasMore"]) == (
        [trail[4].seq, trail[3].seq],
        5,
        True,
    )
    second = get(admin_client, top="2", skip="2")
    assert (seqs(second), second["hasMore"]) == ([trail[2].seq, trail[1].seq], True)
    last = get(admin_client, limit="2", offset="4")
    assert (seqs(last), last["total"], last["hasMore"]) == ([trail[0].seq], 5, False)
    beyond = get(admin_client, skip="10")
    assert (beyond["records"], beyond["total"], beyond["hasMore"]) == ([], 5, False)


@override_settings(OS_MAX_PAGE_SIZE=3, OS_DEFAULT_PAGE_SIZE=2)
def test_page_size_default_and_cap(admin_client, trail):
    assert len(get(admin_client)["records"]) == 2
    capped = get(admin_client, top="100")
    assert (len(capped["records"]), capped["hasMore"]) == (3, True)


def test_other_projects_rows_never_appear(admin_client, trail, other_project):
    other_admin = factories.make_user("admin@auditother.test", other_project, superuser=True)
    append(other_project, "create", "2030-01-02T00:00:00+00:00", other_admin,
           object_name="au_note", record_id="n1")  # fmt: skip
    body = get(admin_client)
    assert seqs(body) == [e.seq for e in reversed(trail)]
    assert {row["id"] for row in body["records"]} == {e.pk for e in trail}
    theirs = get(client_for(other_project, other_admin))
    assert [row["actor"] for row in theirs["records"]] == ["admin@auditother.test"]
    # the admin of one project is a superuser, so the other project lets them in too: the
    # rows they see there are still that project's only
    crossing = get(client_for(other_project, factories.make_user("admin@audit.test")))
    assert seqs(crossing) == seqs(theirs)


def test_a_member_without_the_audit_permission_is_refused_and_audited(editor_client, editor, trail):
    response = editor_client.get(AUDIT, {"object": "au_note"}, HTTP_X_REQUEST_ID="req-peek")
    assert response.status_code == 403
    assert response.json() == {"error": "you may not read the audit trail", "code": "FORBIDDEN"}
    denial = AuditEvent.objects.get(chain="audit", action="permission.denied")
    assert (denial.actor, denial.actor_user_id, denial.request_id, denial.object_name) == (
        "editor@audit.test",
        editor.pk,
        "req-peek",
        "",
    )
    assert denial.details == {
        "error": "you may not read the audit trail",
        "method": "GET",
        "path": AUDIT,
    }


@pytest.mark.parametrize(
    ("sets", "status"),
    [
        (["auditor"], 200),  # systemPermissions: audit.read
        (["setup_admin"], 200),  # systemPermissions: setup.access
        (["exporter"], 403),  # another system permission
        (["note_editor", "exporter"], 403),
        ([], 403),
    ],
)
def test_who_may_read_the_trail(project, sets, status):
    user = factories.make_user(f"u{len(sets)}{status}@audit.test", project, permission_sets=sets)
    assert client_for(project, user).get(AUDIT).status_code == status


def test_a_default_permission_set_can_grant_the_audit_permission(default_audit_session, db):
    project = default_audit_session
    member = factories.make_user("member@auditdefault.test", project)
    body = client_for(project, member).get(AUDIT, {"action": "artifact.*"}).json()
    assert [row["action"] for row in body["records"]] == ["artifact.publish", "artifact.load"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2030-13-01"}, "since"),
        ({"until": "2030-01-01T25:00:00Z"}, "until"),
        ({"top": "-1"}, "top"),
        ({"top": "ten"}, "top"),
        ({"skip": "1.5"}, "skip"),
        ({"offset": "9" * 30}, "offset"),
        ({"objekt": "au_note"}, "objekt"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(admin_client, params, field):
    response = admin_client.get(AUDIT, params)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("INVALID_QUERY", field)
    assert field in body["error"]


def test_bad_since_message(admin_client):
    assert admin_client.get(AUDIT, {"since": "yesterday"}).json() == {
        "error": "since must be an ISO 8601 date or date-time, such as 2026-01-31 or "
        "2026-01-31T09:30:00Z (got 'yesterday')",
        "code": "INVALID_QUERY",
        "field": "since",
    }


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_trail_cannot_be_written_through_the_api(admin_client, trail, method):
    count = AuditEvent.objects.count()
    response = getattr(admin_client, method)(AUDIT, {"action": "forged"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert AuditEvent.objects.count() == count


def test_anonymous_is_401_and_not_recorded(project, trail):
    count = AuditEvent.objects.count()
    response = client_for(project).get(AUDIT)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert AuditEvent.objects.count() == count


def test_time_is_utc(admin_client, trail):
    first = get(admin_client, record="b1")["records"][0]
    assert first["time"] == "2030-01-02T12:30:00Z"
    assert datetime.fromisoformat(first["time"]) == datetime(2030, 1, 2, 12, 30, tzinfo=UTC)
