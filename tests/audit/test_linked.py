"""Audit events of a write transaction go with its COMMIT (PostgreSQL, apps/audit/linked.py):
committed with the change or not at all, in the order they were appended, a rolled-back
savepoint's events dropped with it. The same outcomes hold on SQLite, where the block is
a plain atomic one. Real transactions: these tests commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.audit import record as audit
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.verify import verify_chain
from tests import factories
from tests.audit.conftest import audit_artifact

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = "held"
POSTGRES = connection.vendor == "postgresql"


def actions(chain: str = CHAIN) -> list[str]:
    return list(
        AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("action", flat=True)
    )


def test_events_go_with_the_commit_in_one_round_trip():
    with CaptureQueriesContext(connection) as queries, audit.appends_with_commit():
        Group.objects.create(name="writers")
        first = audit.record(None, "one", chain=CHAIN)
        second = audit.record(None, "two", chain=CHAIN, details={"n": 2})
        if POSTGRES:  # held: nothing is in the database yet
            assert AuditEvent.objects.filter(chain=CHAIN).count() == 0
    sent = [q["sql"] for q in queries.captured_queries]
    if POSTGRES:
        # Django logs its own commit() last: psycopg sends nothing then (the transaction
        # has ended), the COMMIT went with the events
        assert sent[-1] == "COMMIT"
        assert sent[-2].startswith("INSERT INTO") and sent[-2].endswith("; COMMIT")
        assert sent[-2].count('INSERT INTO "os_audit_auditevent"') == 2
        assert not any("COMMIT" in sql for sql in sent[:-2])
    assert actions() == ["one", "two"]
    stored = {e.pk: e for e in AuditEvent.objects.filter(chain=CHAIN)}
    # the events returned by the appends were filled in as they were sent
    assert [(e.seq, e.hash) for e in (first, second)] == [(1, first.hash), (2, second.hash)]
    assert [stored[e.pk].hash for e in (first, second)] == [first.hash, second.hash]
    assert stored[second.pk].prev_hash == first.hash
    assert Group.objects.filter(name="writers").exists()
    assert verify_chain(CHAIN).ok


def test_a_failing_commit_keeps_neither_the_change_nor_its_event():
    audit.record(None, "before", chain=CHAIN)
    head = AuditChainHead.objects.get(chain=CHAIN)
    with pytest.raises(IntegrityError), audit.appends_with_commit():
        Group.objects.create(name="orphans")
        with connection.cursor() as cursor:  # checked at COMMIT on PostgreSQL (deferred FK)
            cursor.execute(
                "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
                [Group.objects.get(name="orphans").pk, 10**9],
            )
        audit.record(None, "lost", chain=CHAIN)
    assert not Group.objects.filter(name="orphans").exists()
    assert actions() == ["before"]
    assert AuditChainHead.objects.get(chain=CHAIN).last_seq == head.last_seq
    # the connection goes on: the next transaction appends after the real tip
    with audit.appends_with_commit():
        audit.record(None, "after", chain=CHAIN)
    assert actions() == ["before", "after"]
    assert verify_chain(CHAIN).ok


def test_a_rolled_back_savepoint_drops_its_events_and_keeps_the_order():
    with audit.appends_with_commit():
        audit.record(None, "first", chain=CHAIN)
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(None, "undone", chain=CHAIN)
            raise RuntimeError("roll the savepoint back")
        with transaction.atomic():
            audit.record(None, "kept in a savepoint", chain=CHAIN)
        audit.record(None, "last", chain=CHAIN)
    assert actions() == ["first", "kept in a savepoint", "last"]
    assert verify_chain(CHAIN).ok


def test_an_error_in_the_block_sends_nothing():
    with pytest.raises(ValueError), audit.appends_with_commit():
        Group.objects.create(name="never")
        audit.record(None, "never", chain=CHAIN)
        raise ValueError("refused")
    assert actions() == []
    assert not Group.objects.filter(name="never").exists()


def test_an_on_commit_callback_appends_on_its_own():
    def after_commit() -> None:
        audit.record(None, "after commit", chain=CHAIN)

    with audit.appends_with_commit():
        audit.record(None, "in the transaction", chain=CHAIN)
        transaction.on_commit(after_commit)
    assert actions() == ["in the transaction", "after commit"]
    assert verify_chain(CHAIN).ok


def test_a_new_chain_gets_its_head_in_the_same_round_trip():
    with audit.appends_with_commit():
        audit.record(None, "first ever", chain="brand-new")
    head = AuditChainHead.objects.get(chain="brand-new")
    assert (head.last_seq, actions("brand-new")) == (1, ["first ever"])
    assert verify_chain("brand-new").ok


@pytest.fixture
def held_api():
    """A project of the audit tests' artifact (au_note gets a unique `code`), published
    for real (these tests commit), its admin's client, warmed by one read."""
    raw = audit_artifact()
    raw["objects"][0]["fields"]["code"] = {"type": "text", "unique": True}
    project = factories.publish_artifact("held", raw)
    admin = factories.make_user("admin@held.test", project, superuser=True)
    client = factories.api_client(project, admin)
    assert client.get("/api/v1/data/au_note").status_code == 200
    return client


def record_actions() -> list[str]:
    """The held project's events but those of publishing its artifact."""
    return [a for a in actions("held") if not a.startswith("artifact.")]


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]


def test_an_api_create_is_one_message_with_its_event(held_api):
    with CaptureQueriesContext(connection) as queries:
        response = held_api.post("/api/v1/data/au_note", {"title": "Held"}, format="json")
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    if POSTGRES:  # no BEGIN, no COMMIT: PostgreSQL runs one message as one transaction
        [sent] = writes(queries)
        assert sent.startswith('INSERT INTO "held__au_note"')
        assert sent.count('INSERT INTO "os_audit_auditevent"') == 1
        assert "COMMIT" not in sent
    event = AuditEvent.objects.get(chain="held", action="create")
    assert (event.object_name, event.record_id, event.actor) == (
        "au_note",
        record_id,
        "admin@held.test",
    )
    assert ["title", None, "Held"] in event.changes
    assert verify_chain("held").ok


def test_an_api_update_sends_its_event_with_the_commit(held_api):
    record_id = held_api.post("/api/v1/data/au_note", {"title": "A"}, format="json").json()["id"]
    with CaptureQueriesContext(connection) as queries:
        response = held_api.patch(
            f"/api/v1/data/au_note/{record_id}", {"title": "B"}, format="json"
        )
    assert response.status_code == 200, response.content
    if POSTGRES:  # the UPDATE goes first in the COMMIT's message (linked.defer)
        sent = writes(queries)
        assert sent[0] == "BEGIN" and sent[1].startswith('UPDATE "held__au_note"')
        assert sent[1].endswith("; COMMIT") and '"os_audit_auditevent"' in sent[1]
        assert sent[2:] == ["COMMIT"]  # Django's log of its commit(): nothing sent
    assert response.json()["record"]["title"] == "B"  # answered from the UPDATE's row
    assert record_actions() == ["create", "update"]
    event = AuditEvent.objects.get(chain="held", action="update")
    assert ["title", "A", "B"] in event.changes
    assert verify_chain("held").ok


def test_a_unique_violation_in_one_message_is_a_field_error_and_leaves_no_event(held_api):
    first = held_api.post("/api/v1/data/au_note", {"title": "A", "code": "X1"}, format="json")
    assert first.status_code == 201, first.content
    again = held_api.post("/api/v1/data/au_note", {"title": "B", "code": "X1"}, format="json")
    assert again.status_code == 400, again.content
    assert again.json()["fields"] == [
        {"field": "code", "code": "unique", "message": "another au_note has this code"}
    ]
    assert record_actions() == ["create"]
    assert verify_chain("held").ok


@contextmanager
def events_refused() -> Iterator[None]:
    """PostgreSQL refuses every audit event (a trigger raising an integrity error)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '23000'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_event BEFORE INSERT ON os_audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_event()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_event ON os_audit_auditevent")
            cursor.execute("DROP FUNCTION test_refuse_event()")


@pytest.mark.skipif(not POSTGRES, reason="the one-message create is PostgreSQL's")
def test_a_refused_event_takes_the_created_row_with_it(held_api):
    """The INSERT and the event are one transaction: when the event cannot be written,
    the row is not kept either, and the answer is the server's failure (500), not a
    validation error of the request."""
    held_api.raise_request_exception = False
    with events_refused():
        response = held_api.post("/api/v1/data/au_note", {"title": "Lost"}, format="json")
    assert response.status_code == 500, response.content
    assert response.json()["code"] == "INTERNAL_ERROR"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM held__au_note WHERE title = 'Lost'")
        assert cursor.fetchone()[0] == 0
    assert record_actions() == []


def test_an_append_outside_a_transaction_is_one_message():
    """A sign-in or a refusal appends outside any write: PostgreSQL runs the head's upsert
    and the event's INSERT, sent as one message, as one transaction of their own."""
    with CaptureQueriesContext(connection) as queries:
        alone = audit.record(None, "alone", chain=CHAIN)
    sent = [q["sql"] for q in queries.captured_queries]
    if POSTGRES:  # no BEGIN, no COMMIT
        assert len(sent) == 1 and sent[0].count('INSERT INTO "os_audit_auditevent"') == 1
    assert AuditEvent.objects.get(chain=CHAIN).hash == alone.hash
    assert verify_chain(CHAIN).ok


def test_an_update_refused_at_the_commit_is_a_field_error_and_keeps_nothing(held_api):
    """The UPDATE held for the COMMIT's message fails there: the request's 400 naming the
    field, the row as it was, no event."""
    for title, code in (("A", "X1"), ("B", "X2")):
        response = held_api.post(
            "/api/v1/data/au_note", {"title": title, "code": code}, format="json"
        )
        assert response.status_code == 201, response.content
    second = response.json()["id"]
    clash = held_api.patch(f"/api/v1/data/au_note/{second}", {"code": "X1"}, format="json")
    assert clash.status_code == 400, clash.content
    assert clash.json()["fields"] == [
        {"field": "code", "code": "unique", "message": "another au_note has this code"}
    ]
    assert held_api.get(f"/api/v1/data/au_note/{second}").json()["record"]["code"] == "X2"
    assert record_actions() == ["create", "create"]
    # the connection goes on
    fine = held_api.patch(f"/api/v1/data/au_note/{second}", {"code": "X3"}, format="json")
    assert fine.status_code == 200 and fine.json()["record"]["code"] == "X3"
    assert record_actions() == ["create", "create", "update"]
    assert verify_chain("held").ok


@pytest.mark.skipif(not POSTGRES, reason="the UPDATE held for the COMMIT is PostgreSQL's")
def test_a_refused_update_event_takes_the_update_with_it(held_api):
    held_api.raise_request_exception = False
    record_id = held_api.post("/api/v1/data/au_note", {"title": "Kept"}, format="json").json()["id"]
    with events_refused():
        response = held_api.patch(
            f"/api/v1/data/au_note/{record_id}", {"title": "Lost"}, format="json"
        )
    assert response.status_code == 500, response.content
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert held_api.get(f"/api/v1/data/au_note/{record_id}").json()["record"]["title"] == "Kept"
    assert record_actions() == ["create"]
