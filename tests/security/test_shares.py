"""Manual per-record shares: GET/POST/DELETE /api/v1/data/<object>/<id>/shares.

The artifact (fixtures/shares) has a private note with comments that follow it
(controlled_by_parent), a public_read document and a public_read_write board. Owner Ann
creates notes; Bob and Carol are plain members whose permission set grants read and edit
on every object, so only the sharing model and the manual shares decide what they see.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from apps.artifact.load import load_artifact
from apps.audit.models import AuditEvent
from apps.kernel.cache import kernels
from apps.schema import publish
from apps.schema.exceptions import ApprovalRequired
from apps.security.access import forget_compiled_access
from tests import factories

pytestmark = pytest.mark.django_db

ARTIFACT = factories.REPO / "fixtures" / "shares" / "objectstack.json"
NOTE_GRANTS = "shr__shr_note__share"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="session")
def shares_session(publish_session):
    return publish_session("shr", json.loads(ARTIFACT.read_text()))


@pytest.fixture
def shr(shares_session, db):
    shares_session.refresh_from_db()
    return shares_session


@pytest.fixture
def ann(shr):
    return factories.make_user("ann@shr.test", shr, permission_sets=["member"])


@pytest.fixture
def bob(shr):
    return factories.make_user("bob@shr.test", shr, permission_sets=["member"])


@pytest.fixture
def carol(shr):
    return factories.make_user("carol@shr.test", shr, permission_sets=["member"])


def client(project, user):
    return factories.api_client(project, user)


def create(project, user, object_name, **values):
    response = client(project, user).post(f"/api/v1/data/{object_name}", values, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def share(project, user, record_id, recipient, level, object_name="shr_note"):
    return client(project, user).post(
        f"/api/v1/data/{object_name}/{record_id}/shares",
        {"user": recipient, "accessLevel": level},
        format="json",
    )


def grant_rows(record_id, table=NOTE_GRANTS):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE content_object_id = %s', [record_id])
        return cursor.fetchone()[0]


def visible(project, user, record_id):
    """What `user` sees of one note through every read route: list, count, query, search,
    get. Returns a tuple of (ids listed, total, ids queried, ids searched, get status)."""
    api = client(project, user)
    listed = api.get("/api/v1/data/shr_note").json()
    queried = api.post(
        "/api/v1/data/shr_note/query", {"filter": {"id": record_id}}, format="json"
    ).json()
    searched = api.get("/api/v1/data/shr_note", {"search": "Quarterly"}).json()
    return (
        [r["id"] for r in listed["records"]],
        listed["total"],
        [r["id"] for r in queried["records"]],
        [r["id"] for r in searched["records"]],
        api.get(f"/api/v1/data/shr_note/{record_id}").status_code,
    )


def test_grant_tables_exist_for_private_and_public_read_objects_only(shr):
    tables = set(connection.introspection.table_names())
    assert {"shr__shr_note__share", "shr__shr_doc__share"} <= tables
    assert "shr__shr_comment__share" not in tables  # follows its note
    assert "shr__shr_board__share" not in tables  # public_read_write: nothing to add


def test_read_share_then_edit_share_then_revoke(shr, ann, bob):
    note = create(shr, ann, "shr_note", title="Quarterly plan", body="draft")
    comment = create(shr, ann, "shr_comment", text="first!", note=note)
    bob_api = client(shr, bob)

    # Not shared: absent from list, count, query and search; 404 on get, update and delete.
    assert visible(shr, bob, note) == ([], 0, [], [], 404)
    assert bob_api.patch(f"/api/v1/data/shr_note/{note}", {"title": "x"}, format="json").json() == {
        "error": f"shr_note '{note}' not found",
        "code": "NOT_FOUND",
    }
    assert bob_api.get("/api/v1/data/shr_comment").json()["total"] == 0

    # Ann shares it read-only with Bob (by email).
    response = share(shr, ann, note, "bob@shr.test", "read")
    assert response.status_code == 201, response.content
    body = response.json()
    share_id = body["share"]["id"]
    granted_at = body["share"]["grantedAt"]
    assert ISO_Z.match(granted_at)
    assert body == {
        "object": "shr_note",
        "id": note,
        "share": {
            "id": share_id,
            "user": {"id": bob.pk, "email": "bob@shr.test"},
            "accessLevel": "read",
            "grantedBy": ann.pk,
            "grantedAt": granted_at,
        },
    }
    assert visible(shr, bob, note) == ([note], 1, [note], [note], 200)
    assert bob_api.get("/api/v1/data/shr_comment").json()["total"] == 1  # follows the note
    assert (
        bob_api.patch(f"/api/v1/data/shr_note/{note}", {"title": "x"}, format="json").status_code
        == 404
    )
    assert bob_api.delete(f"/api/v1/data/shr_note/{note}").status_code == 404
    assert (
        bob_api.post(
            "/api/v1/data/shr_note/updateMany",
            {"records": [{"id": note, "title": "x"}]},
            format="json",
        ).status_code
        == 404
    )
    assert (
        bob_api.patch(
            f"/api/v1/data/shr_comment/{comment}", {"text": "x"}, format="json"
        ).status_code
        == 404
    )

    # Sharing again with Bob (by id) at edit updates the same share.
    response = share(shr, ann, note, bob.pk, "edit")
    assert response.status_code == 200, response.content
    assert response.json()["share"]["id"] == share_id
    assert response.json()["share"]["accessLevel"] == "edit"
    updated = bob_api.patch(
        f"/api/v1/data/shr_note/{note}", {"title": "Quarterly plan v2"}, format="json"
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["record"]["title"] == "Quarterly plan v2"
    assert (
        bob_api.patch(
            f"/api/v1/data/shr_comment/{comment}", {"text": "ok"}, format="json"
        ).status_code
        == 200
    )
    # The same level again changes nothing (no second audit row).
    assert share(shr, ann, note, "BOB@shr.test", "edit").status_code == 200

    listed = client(shr, ann).get(f"/api/v1/data/shr_note/{note}/shares").json()
    assert listed["object"] == "shr_note" and listed["id"] == note
    assert [(s["id"], s["user"]["email"], s["accessLevel"]) for s in listed["shares"]] == [
        (share_id, "bob@shr.test", "edit")
    ]

    # Revoked: gone again.
    response = client(shr, ann).delete(f"/api/v1/data/shr_note/{note}/shares/{share_id}")
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert visible(shr, bob, note) == ([], 0, [], [], 404)
    assert bob_api.get("/api/v1/data/shr_comment").json()["total"] == 0
    assert client(shr, ann).get(f"/api/v1/data/shr_note/{note}/shares").json()["shares"] == []
    assert client(shr, ann).delete(f"/api/v1/data/shr_note/{note}/shares/{share_id}").json() == {
        "error": f"shr_note '{note}' has no share '{share_id}'",
        "code": "NOT_FOUND",
    }

    events = AuditEvent.objects.filter(chain="shr", action__startswith="share.").order_by("seq")
    bob_ref = {"id": bob.pk, "email": "bob@shr.test"}
    assert [(e.action, e.object_name, e.record_id, e.actor_user_id, e.details) for e in events] == [
        ("share.granted", "shr_note", note, ann.pk, {"share": int(share_id), "user": bob_ref, "accessLevel": "read"}),
        ("share.granted", "shr_note", note, ann.pk, {"share": int(share_id), "user": bob_ref, "accessLevel": "edit", "previous": "read"}),
        ("share.revoked", "shr_note", note, ann.pk, {"share": int(share_id), "user": bob_ref, "accessLevel": "edit"}),
    ]  # fmt: skip


def test_count_uses_the_share_scope_in_sql(shr, ann, bob):
    notes = [create(shr, ann, "shr_note", title=f"Quarterly {i}") for i in range(3)]
    create(shr, ann, "shr_note", title="not shared")
    for note in notes[:2]:
        assert share(shr, ann, note, "bob@shr.test", "read").status_code == 201
    api = client(shr, bob)
    with CaptureQueriesContext(connection) as queries:
        page = api.get("/api/v1/data/shr_note", {"top": 1}).json()
    assert (len(page["records"]), page["total"], page["hasMore"]) == (1, 2, True)
    sql = [q["sql"] for q in queries.captured_queries if '"shr__shr_note"' in q["sql"]]
    assert len(sql) == 2  # the page and the COUNT, each with the grant subquery inside
    assert all(NOTE_GRANTS in statement for statement in sql)
    assert api.get("/api/v1/data/shr_note", {"search": "Quarterly"}).json()["total"] == 2


def test_deleting_the_record_deletes_its_grants(shr, ann, bob, carol):
    note = create(shr, ann, "shr_note", title="Short-lived")
    kept = create(shr, ann, "shr_note", title="Kept")
    assert share(shr, ann, note, "bob@shr.test", "read").status_code == 201
    assert share(shr, ann, note, "carol@shr.test", "edit").status_code == 201
    assert share(shr, ann, kept, "bob@shr.test", "read").status_code == 201
    assert (grant_rows(note), grant_rows(kept)) == (2, 1)

    # Carol holds an edit share but no delete right through it: the owner deletes.
    assert client(shr, ann).delete(f"/api/v1/data/shr_note/{note}").status_code == 200
    assert (grant_rows(note), grant_rows(kept)) == (0, 1)
    deleted = AuditEvent.objects.get(chain="shr", action="delete", record_id=note)
    assert deleted.details == {"cascaded": {"shr_note__share": 2}}


def test_only_the_owner_or_a_transfer_right_may_manage_shares(shr, ann, bob, carol):
    note = create(shr, ann, "shr_note", title="Ann's")
    hidden = create(shr, ann, "shr_note", title="Ann's, unshared")
    assert share(shr, ann, note, "carol@shr.test", "edit").status_code == 201
    share_id = (
        client(shr, ann).get(f"/api/v1/data/shr_note/{note}/shares").json()["shares"][0]["id"]
    )
    carol_api = client(shr, carol)

    # Carol sees and edits the note through her share, but may not manage its shares.
    forbidden = {
        "error": "only the owner of this shr_note record or someone who may transfer "
        "shr_note records may manage its shares",
        "code": "FORBIDDEN",
    }
    assert carol_api.get(f"/api/v1/data/shr_note/{note}").status_code == 200
    for response in (
        carol_api.get(f"/api/v1/data/shr_note/{note}/shares"),
        share(shr, carol, note, "bob@shr.test", "read"),
        carol_api.delete(f"/api/v1/data/shr_note/{note}/shares/{share_id}"),
    ):
        assert (response.status_code, response.json()) == (403, forbidden)
    # A record Carol cannot see at all is 404 on every share route.
    not_found = {"error": f"shr_note '{hidden}' not found", "code": "NOT_FOUND"}
    for response in (
        carol_api.get(f"/api/v1/data/shr_note/{hidden}/shares"),
        share(shr, carol, hidden, "bob@shr.test", "read"),
        carol_api.delete(f"/api/v1/data/shr_note/{hidden}/shares/{share_id}"),
    ):
        assert (response.status_code, response.json()) == (404, not_found)
    assert grant_rows(hidden) == 0

    # modifyAllRecords (a transfer right) and superusers may share any record.
    manager = factories.make_user("manager@shr.test", shr, permission_sets=["member", "note_admin"])
    assert share(shr, manager, hidden, "bob@shr.test", "read").status_code == 201
    admin = factories.make_user("admin@shr.test", shr, superuser=True)
    assert share(shr, admin, hidden, "carol@shr.test", "read").status_code == 201
    assert grant_rows(hidden) == 2
    assert client(shr, carol).get(f"/api/v1/data/shr_note/{hidden}").status_code == 200


def test_anonymous_and_unknown_objects(shr, ann):
    note = create(shr, ann, "shr_note", title="x")
    response = factories.api_client(shr).get(f"/api/v1/data/shr_note/{note}/shares")
    assert response.status_code == 401
    response = client(shr, ann).get(f"/api/v1/data/shr_nope/{note}/shares")
    assert (response.status_code, response.json()["code"]) == (404, "OBJECT_NOT_FOUND")


def test_invalid_shares_are_validation_failures(shr, ann, bob):
    note = create(shr, ann, "shr_note", title="x")
    factories.make_user("outsider@shr.test")  # a user, but no member of the project
    url = f"/api/v1/data/shr_note/{note}/shares"
    api = client(shr, ann)

    def fields(body):
        response = api.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "VALIDATION_FAILED"
        return response.json().get("fields")

    assert fields({}) == [
        {"field": "user", "code": "required", "message": "user (email or id) is required"},
        {"field": "accessLevel", "code": "required", "message": "accessLevel is required"},
    ]
    assert fields({"user": "nobody@shr.test", "accessLevel": "owner"}) == [
        {
            "field": "user",
            "code": "invalid_reference",
            "message": "no user with email or id nobody@shr.test",
        },
        {
            "field": "accessLevel",
            "code": "invalid_choice",
            "message": "accessLevel is read or edit",
        },
    ]
    assert fields({"user": 10**9, "accessLevel": ["read"]}) == [
        {
            "field": "user",
            "code": "invalid_reference",
            "message": f"no user with email or id {10**9}",
        },
        {
            "field": "accessLevel",
            "code": "invalid_choice",
            "message": "accessLevel is read or edit",
        },
    ]
    assert fields({"user": "outsider@shr.test", "accessLevel": "read"}) == [
        {
            "field": "user",
            "code": "not_a_member",
            "message": "outsider@shr.test is not a member of this project",
        }
    ]
    assert fields({"user": "ann@shr.test", "accessLevel": "edit"}) == [
        {
            "field": "user",
            "code": "is_owner",
            "message": "the record's owner already has full access",
        }
    ]
    assert fields({"user": True, "accessLevel": "read"}) == [
        {
            "field": "user",
            "code": "invalid_type",
            "message": "user is an email address or a user id",
        }
    ]
    response = api.post(url, ["bob@shr.test"], format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"error": "the body must be a JSON object", "code": "VALIDATION_FAILED"},
    )
    assert grant_rows(note) == 0
    assert not AuditEvent.objects.filter(chain="shr", action__startswith="share.").exists()


def test_public_read_documents_take_edit_shares_open_boards_take_none(shr, ann, bob):
    doc = create(shr, ann, "shr_doc", title="Handbook")
    bob_api = client(shr, bob)
    assert bob_api.get(f"/api/v1/data/shr_doc/{doc}").status_code == 200
    assert (
        bob_api.patch(f"/api/v1/data/shr_doc/{doc}", {"title": "x"}, format="json").status_code
        == 404
    )
    assert share(shr, ann, doc, "bob@shr.test", "read", "shr_doc").status_code == 201
    assert (
        bob_api.patch(f"/api/v1/data/shr_doc/{doc}", {"title": "x"}, format="json").status_code
        == 404
    )
    assert share(shr, ann, doc, "bob@shr.test", "edit", "shr_doc").status_code == 200
    assert (
        bob_api.patch(f"/api/v1/data/shr_doc/{doc}", {"title": "x"}, format="json").status_code
        == 200
    )
    assert grant_rows(doc, "shr__shr_doc__share") == 1

    board = create(shr, ann, "shr_board", title="Open")
    assert client(shr, ann).get(f"/api/v1/data/shr_board/{board}/shares").json() == {
        "object": "shr_board",
        "id": board,
        "shares": [],
    }
    response = share(shr, ann, board, "bob@shr.test", "edit", "shr_board")
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "shr_board records are shared by their sharingModel (public_read_write); "
            "they take no manual shares",
            "code": "VALIDATION_FAILED",
        },
    )


def test_guardian_helpers_work_on_the_grant_tables(shr, ann, bob):
    """guardian's assign_perm / remove_perm / get_objects_for_user find the direct
    foreign-key grant model of a kernel object: what they write, the API and scope see."""
    note = create(shr, ann, "shr_note", title="x")
    model = kernels.get_version("shr", shr.published_version_id).object("shr_note").model
    record = model._base_manager.get(pk=note)
    notes = model._base_manager.all()

    def guardian_sees(level):
        return list(
            get_objects_for_user(
                bob, level, notes, with_superuser=False, accept_global_perms=False
            ).values_list("pk", flat=True)
        )

    assert share(shr, ann, note, "bob@shr.test", "edit").status_code == 201
    assert guardian_sees("change_shr_note") == [note]
    assert remove_perm("change_shr_note", bob, record) == (1, {"osdyn_shr.shr_note__share": 1})
    # Grants written behind the API's back are seen once compiled scopes expire
    # (OS_AUTH_CACHE_TTL); the API's own grant/revoke forget them at once.
    forget_compiled_access()
    assert client(shr, bob).get(f"/api/v1/data/shr_note/{note}").status_code == 404

    assign_perm("view_shr_note", bob, record)
    forget_compiled_access()
    assert guardian_sees("view_shr_note") == [note]
    assert client(shr, bob).get(f"/api/v1/data/shr_note/{note}").status_code == 200
    listed = client(shr, ann).get(f"/api/v1/data/shr_note/{note}/shares").json()["shares"]
    assert [(s["user"]["id"], s["accessLevel"], s["grantedBy"]) for s in listed] == [
        (bob.pk, "read", None)
    ]


FOLLOW = {
    "manifest": {"id": "shares.follow", "namespace": "shrx", "version": "1.0.0"},
    "objects": [
        {"name": "shrx_item", "sharingModel": "private", "fields": {"title": {"type": "text"}}}
    ],
}


def _with(sharing_model=None, objects=None):
    raw = copy.deepcopy(FOLLOW)
    if sharing_model is not None:
        raw["objects"][0]["sharingModel"] = sharing_model
    if objects is not None:
        raw["objects"] = objects
    return raw


@pytest.mark.django_db(transaction=True)
def test_the_grant_table_follows_the_sharing_model_and_the_object():
    table = "shrx__shrx_item__share"
    project = factories.publish_artifact("shrx", FOLLOW)
    assert table in connection.introspection.table_names()

    opened = publish.propose(project, load_artifact(_with("public_read_write")))
    assert [(op.kind, op.risk, op.description) for op in opened.plan] == [
        (
            "drop_shares",
            "destructive",
            "drop shares shrx_item: manual share table and every share in it "
            "(sharingModel private -> public_read_write)",
        ),
        ("metadata", "metadata-only", "metadata shrx_item: object properties"),
    ]
    with pytest.raises(ApprovalRequired):
        publish.approve(opened.version)
    publish.approve(opened.version, allow_destructive=True)
    assert table not in connection.introspection.table_names()

    project.refresh_from_db()
    closed = publish.propose(project, load_artifact(_with("public_read")))
    assert [(op.kind, op.risk) for op in closed.plan] == [
        ("create_shares", "additive"),
        ("metadata", "metadata-only"),
    ]
    publish.approve(closed.version)
    assert table in connection.introspection.table_names()

    project.refresh_from_db()
    other = [{"name": "shrx_other", "fields": {"title": {"type": "text"}}}]
    replaced = publish.propose(project, load_artifact(_with(objects=other)))
    assert [op.kind for op in replaced.plan] == ["create_object", "drop_object"]
    publish.approve(replaced.version, allow_destructive=True)
    tables = set(connection.introspection.table_names())
    assert table not in tables and "shrx__shrx_item" not in tables
    assert "shrx__shrx_other__share" in tables
