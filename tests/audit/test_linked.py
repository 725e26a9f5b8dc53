"""Audit events of a write transaction go with its COMMIT (PostgreSQL, apps/audit/linked.py):
committed with the change or not at all, in the order they were appended, a rolled-back
savepoint's events dropped with it. The same outcomes hold on SQLite, where the block is
a plain atomic one. Real transactions: these tests commit."""

from __future__ import annotations

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
                "INSERT INTO auth_group_permissions (group_id, permission_id) "
                "VALUES (%s, %s)",
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


def test_an_api_create_commits_its_row_and_event_together():
    project = factories.publish_artifact("held", audit_artifact())
    admin = factories.make_user("admin@held.test", project, superuser=True)
    client = factories.api_client(project, admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/data/au_note", {"title": "Held"}, format="json")
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    if POSTGRES:
        sent = [q["sql"] for q in queries.captured_queries]
        audited = [sql for sql in sent if '"os_audit_auditevent"' in sql]
        assert len(audited) == 1 and audited[0].endswith("; COMMIT")
        assert sent[sent.index(audited[0]) + 1 :] == ["COMMIT"]  # Django's log of commit()
    event = AuditEvent.objects.get(chain="held", action="create")
    assert (event.object_name, event.record_id, event.actor) == (
        "au_note",
        record_id,
        "admin@held.test",
    )
    assert ["title", None, "Held"] in event.changes
    assert verify_chain("held").ok
