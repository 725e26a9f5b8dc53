"""verify_audit walks each hash chain and names the first row altered or removed.

Tampering needs the append-only triggers out of the way: each test drops them first, in
its own transaction (rolled back afterwards), as an attacker with DDL rights would.
"""

from __future__ import annotations

from io import StringIO

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.audit import record as audit
from apps.audit.models import AuditEvent
from apps.audit.record import HASHED_FIELDS, SYSTEM_CHAIN, row_hash
from apps.audit.verify import ALTERED, MISSING, UNLINKED, ChainReport, verify_chain

pytestmark = pytest.mark.django_db

NOTE = "/api/v1/data/au_note"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def broken(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    message = str(error.value)
    assert "\n" not in message
    return message


def drop_guards() -> None:
    """What an attacker with DDL rights does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER os_audit_event_no_update")
            cursor.execute("DROP TRIGGER os_audit_event_no_delete")
        else:
            cursor.execute("DROP TRIGGER os_audit_event_no_change ON os_audit_auditevent")


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain="audit").order_by("seq"))


@pytest.fixture
def chain(admin_client) -> list[AuditEvent]:
    """The audit project's chain with a create, update and delete on top of the publish."""
    record_id = admin_client.post(NOTE, {"title": "One"}, format="json").json()["id"]
    admin_client.patch(f"{NOTE}/{record_id}", {"title": "Two"}, format="json")
    admin_client.delete(f"{NOTE}/{record_id}")
    rows = events()
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    assert [e.action for e in rows[-3:]] == ["create", "update", "delete"]
    return rows


def test_a_clean_chain_passes(chain):
    out, err = run("audit")
    assert out == f"chain audit: {len(chain)} rows OK\n"
    assert err == ""
    assert verify_chain("audit") == ChainReport("audit", len(chain))


def test_every_chain_is_checked_without_an_argument(chain):
    audit.record(None, "ops.test")
    out, _ = run()
    lines = out.splitlines()
    assert lines[0].startswith(f"chain {SYSTEM_CHAIN}: ")
    assert f"chain audit: {len(chain)} rows OK" in lines
    assert all(line.endswith(" rows OK") for line in lines)


def test_the_system_chain_by_name(chain):
    audit.record(None, "ops.test")
    audit.record(None, "ops.test")
    out, _ = run(SYSTEM_CHAIN)
    count = AuditEvent.objects.filter(chain=SYSTEM_CHAIN).count()
    assert out == f"chain {SYSTEM_CHAIN}: {count} rows OK\n"


def test_an_unknown_chain_is_a_one_line_error(chain):
    assert broken("nope") == "no audit chain named 'nope'"


def test_an_edited_row_is_named(chain):
    victim = chain[-2]  # the update
    drop_guards()
    changes = orjson.dumps([["title", "One", "Three"]]).decode()
    cast = "%s" if connection.vendor == "sqlite" else "CAST(%s AS jsonb)"
    execute(f"UPDATE os_audit_auditevent SET changes = {cast} WHERE id = %s", [changes, victim.pk])
    expected = f"row seq {victim.seq} (id {victim.pk}) was altered"
    assert broken("audit") == f"audit trail broken: chain audit: {expected}"
    assert verify_chain("audit") == ChainReport(
        "audit", victim.seq - 1, expected, ALTERED, victim.seq, victim.pk
    )


def test_an_edited_hash_is_named(chain):
    victim = chain[1]
    drop_guards()
    execute("UPDATE os_audit_auditevent SET hash = %s WHERE id = %s", ["0" * 64, victim.pk])
    assert broken("audit").endswith(f"row seq {victim.seq} (id {victim.pk}) was altered")


def test_a_deleted_middle_row_is_named(chain):
    victim = chain[-2]
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [victim.pk])
    expected = f"row seq {victim.seq} is missing (removed)"
    assert broken("audit") == f"audit trail broken: chain audit: {expected}"
    assert verify_chain("audit") == ChainReport(
        "audit", victim.seq - 1, expected, MISSING, victim.seq
    )


def test_a_deleted_first_row_is_named(chain):
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [chain[0].pk])
    assert broken("audit").endswith("chain audit: row seq 1 is missing (removed)")


def test_a_deleted_last_row_is_found_through_the_chain_head(chain):
    victim = chain[-1]
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [victim.pk])
    expected = f"row seq {victim.seq} is missing (removed)"
    assert broken("audit") == f"audit trail broken: chain audit: {expected}"
    assert verify_chain("audit") == ChainReport(
        "audit", victim.seq - 1, expected, MISSING, victim.seq
    )


def test_a_deleted_last_row_stays_found_after_new_rows(chain, admin_client):
    victim = chain[-1]
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [victim.pk])
    assert admin_client.post(NOTE, {"title": "Later"}, format="json").status_code == 201
    assert broken("audit").endswith(f"row seq {victim.seq} is missing (removed)")


def _rewrite(event: AuditEvent, **values) -> None:
    """Change a row AND recompute its hash, as a careful attacker would."""
    row = {name: getattr(event, name) for name in HASHED_FIELDS} | values
    sets = ", ".join(f"{name} = %s" for name in values)
    execute(
        f"UPDATE os_audit_auditevent SET {sets}, hash = %s WHERE id = %s",
        [*values.values(), row_hash(row), event.pk],
    )


def test_a_rewritten_and_rehashed_middle_row_breaks_the_next_link(chain):
    victim, follower = chain[-3], chain[-2]
    drop_guards()
    _rewrite(victim, actor="someone-else@audit.test")
    assert broken("audit") == (
        f"audit trail broken: chain audit: row seq {follower.seq} (id {follower.pk}) does not "
        f"link to row seq {victim.seq}: a row was rewritten with a new hash, or replaced"
    )
    assert verify_chain("audit").kind == UNLINKED


def test_a_rewritten_and_rehashed_last_row_differs_from_the_chain_head(chain):
    victim = chain[-1]
    drop_guards()
    _rewrite(victim, action="update")
    assert broken("audit") == (
        f"audit trail broken: chain audit: row seq {victim.seq} (id {victim.pk}) was "
        "altered: its hash differs from the chain head's"
    )


def test_only_the_broken_chain_fails_and_the_others_still_report(chain):
    audit.record(None, "ops.test")
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [chain[2].pk])
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as error:
        call_command("verify_audit", stdout=out, stderr=err)
    assert str(error.value) == "audit trail broken: chain audit: row seq 3 is missing (removed)"
    assert f"chain {SYSTEM_CHAIN}: " in out.getvalue()
    assert "chain audit:" not in out.getvalue()
    # the attacker's first step shows too
    assert err.getvalue().startswith("warning: append-only triggers missing or disabled")


@pytest.mark.parametrize("chunk_size", ["1", "2", "1000"])
def test_streaming_in_small_chunks_finds_the_same_row(chain, chunk_size):
    out, _ = run("audit", "--chunk-size", chunk_size)
    assert out == f"chain audit: {len(chain)} rows OK\n"
    drop_guards()
    execute("DELETE FROM os_audit_auditevent WHERE id = %s", [chain[3].pk])
    assert broken("audit", "--chunk-size", chunk_size).endswith("row seq 4 is missing (removed)")
