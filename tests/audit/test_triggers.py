"""Audit rows are append-only below the ORM: the database itself refuses to rewrite them."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit import record as audit
from apps.audit.models import AuditChainHead, AuditEvent, AuditLogImmutable
from apps.audit.triggers import missing_triggers

pytestmark = pytest.mark.django_db


def refused(sql: str, params: list | None = None, message: str = "append-only") -> None:
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


@pytest.fixture
def event() -> AuditEvent:
    return audit.record(None, "ops.test", details={"n": 1})


def test_the_triggers_are_installed():
    assert missing_triggers(connection) == []


def test_the_orm_cannot_update_or_delete_events(event):
    with pytest.raises(AuditLogImmutable):
        event.save()
    with pytest.raises(AuditLogImmutable):
        event.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "ops.test"


def test_raw_sql_cannot_update_or_delete_events(event):
    refused("UPDATE os_audit_auditevent SET action = %s WHERE id = %s", ["forged", event.pk])
    refused("DELETE FROM os_audit_auditevent WHERE id = %s", [event.pk])
    refused("DELETE FROM os_audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused(event):
    refused("TRUNCATE os_audit_auditevent")
    refused("TRUNCATE os_audit_auditchainhead", message="cannot be deleted")


def test_an_event_must_extend_the_tip_of_its_chain(event):
    head = AuditChainHead.objects.get(chain=event.chain)
    columns = (
        "chain, seq, created_at, action, object_name, record_id, actor, request_id, ip, "
        "user_agent, changes, details, prev_hash, hash"
    )
    values = ", ".join(["%s"] * 14)
    sql = f"INSERT INTO os_audit_auditevent ({columns}) VALUES ({values})"

    def row(chain: str, seq: int, prev_hash: str) -> list:
        now = timezone.now()
        return [chain, seq, now, "forged", "", "", "", "", "", "", "[]", "{}", prev_hash, "f" * 64]

    for params in (
        row(event.chain, head.last_seq, head.last_hash),  # a seq already taken
        row(event.chain, head.last_seq + 2, head.last_hash),  # past the tip
        row(event.chain, head.last_seq + 1, "0" * 64),  # not linked to the tip
        row("no-such-chain", 1, ""),  # a chain without a head
    ):
        refused(sql, params, message="tip of its chain")


def test_a_chain_head_only_advances_to_its_newest_event(event):
    head = AuditChainHead.objects.get(chain=event.chain)
    update = "UPDATE os_audit_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = %s"
    message = "only advances"
    refused(update, [head.last_seq - 1, head.last_hash, head.pk], message=message)
    refused(update, [head.last_seq + 1, head.last_hash, head.pk], message=message)
    refused(update, [head.last_seq, "0" * 64, head.pk], message=message)
    refused(
        "UPDATE os_audit_auditchainhead SET chain = %s WHERE id = %s",
        ["x", head.pk],
        message=message,
    )
    refused("DELETE FROM os_audit_auditchainhead", message="cannot be deleted")
    refused(
        "INSERT INTO os_audit_auditchainhead (chain, last_seq, last_hash) VALUES (%s, %s, %s)",
        ["fresh", 7, "a" * 64],
        message="starts empty",
    )
    # the writer still appends
    assert audit.record(None, "ops.test").seq == head.last_seq + 1


def test_inserting_an_event_advances_its_chain_head(event):
    """The head follows the insert in the database (migration 0003), not in the writer."""
    head = AuditChainHead.objects.get(chain=event.chain)
    assert (head.last_seq, head.last_hash) == (event.seq, event.hash)
    values = {name: getattr(event, name) for name in audit.HASHED_FIELDS}
    values |= {"seq": event.seq + 1, "prev_hash": event.hash, "action": "raw.insert"}
    values["hash"] = audit.row_hash(values)
    columns = [*audit.HASHED_FIELDS, "hash"]
    placeholders = ", ".join(["%s"] * len(columns))
    params = [values[name] for name in columns]
    params[columns.index("changes")] = "[]"
    params[columns.index("details")] = '{"n": 1}'
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO os_audit_auditevent ({', '.join(columns)}) VALUES ({placeholders})",
            params,
        )
    head.refresh_from_db()
    assert (head.last_seq, head.last_hash) == (event.seq + 1, values["hash"])


def test_an_append_is_one_insert_once_the_tip_is_known(event):
    with CaptureQueriesContext(connection) as queries:
        appended = audit.record(None, "ops.test", details={"n": 2})
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # PostgreSQL locks the head inside the INSERT; SQLite remembers the tip it wrote last.
    assert statements == ["INSERT"]
    # SQLite: the new id is the cursor's lastrowid, so the INSERT has no RETURNING (a
    # RETURNING statement takes one more step, and each step lets go of the GIL).
    insert = queries.captured_queries[-1]["sql"]
    assert ("RETURNING" in insert) == (connection.vendor == "postgresql")
    head = AuditChainHead.objects.get(chain=event.chain)
    assert (head.last_seq, head.last_hash) == (appended.seq, appended.hash)
    stored = AuditEvent.objects.get(pk=appended.pk)
    assert (stored.details, stored.changes, stored.created_at) == (
        {"n": 2},
        [],
        appended.created_at,
    )
    assert (stored.seq, stored.prev_hash, stored.hash) == (event.seq + 1, event.hash, appended.hash)
    assert stored.hash == audit.row_hash({n: getattr(stored, n) for n in audit.HASHED_FIELDS})


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_tables_and_keeps_the_guards():
    audit.record(None, "ops.test")
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()
    assert missing_triggers(connection) == []
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue() == "no audit chains yet\n"
    event = audit.record(None, "ops.test")
    assert event.seq == 1
    refused("DELETE FROM os_audit_auditevent WHERE id = %s", [event.pk])


@pytest.mark.django_db(transaction=True)
def test_flush_asks_first_and_a_no_keeps_everything():
    audit.record(None, "ops.test")
    with mock.patch("builtins.input", return_value="no"):
        call_command("flush", verbosity=0)
    assert AuditEvent.objects.count() == 1
    assert missing_triggers(connection) == []
