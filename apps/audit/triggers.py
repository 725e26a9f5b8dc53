"""The database triggers that keep the audit trail append-only: which exist, and lifting
them for a whole-database flush.

The triggers themselves are created by migration 0002_append_only_triggers. The application
never updates or deletes audit rows; the one sanctioned exception is `manage.py flush`,
which empties EVERY table (Django's test runner flushes after each transactional test).
PostgreSQL flushes with TRUNCATE, SQLite with DELETE; both are refused by the triggers, so
the `flush` command lifts them inside the flush's own transaction and puts them back
before it commits: no other connection ever sees the tables unguarded, and a failed
flush rolls the lifting back too. Lifting takes DDL rights (DROP TRIGGER on SQLite,
ALTER TABLE ... DISABLE TRIGGER on PostgreSQL), which an attacker would need anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

GUARDED_TABLES = ("os_audit_auditevent", "os_audit_auditchainhead")
EXPECTED_TRIGGERS = {
    "sqlite": frozenset(
        {
            "os_audit_event_no_update",
            "os_audit_event_no_delete",
            "os_audit_event_at_tip",
            "os_audit_event_advances_head",
            "os_audit_head_starts_empty",
            "os_audit_head_advances",
            "os_audit_head_no_delete",
        }
    ),
    "postgresql": frozenset(
        {
            "os_audit_event_no_change",
            "os_audit_event_no_truncate",
            "os_audit_event_at_tip",
            "os_audit_event_advances_head",
            "os_audit_head_starts_empty",
            "os_audit_head_advances",
            "os_audit_head_no_delete",
            "os_audit_head_no_truncate",
        }
    ),
}


def installed_triggers(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """{trigger name: its CREATE statement} for the enabled triggers on the audit tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                GUARDED_TABLES,
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname IN (%s, %s) AND NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND pg_table_is_visible(c.oid)",
                GUARDED_TABLES,
            )
        else:
            return {}
        return dict(cursor.fetchall())


def missing_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """Names of the append-only triggers that are absent or disabled (empty: all in place)."""
    expected = EXPECTED_TRIGGERS.get(connection.vendor, frozenset())
    return sorted(expected - set(installed_triggers(connection)))


@contextmanager
def guards_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Lift the audit tables' triggers for the enclosed statements, then restore them as
    they were. Must run inside a transaction (the `flush` command opens one)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lifting the audit guards needs an enclosing transaction")
    if connection.vendor == "sqlite":
        saved = installed_triggers(connection)
        with connection.cursor() as cursor:
            for name in saved:
                cursor.execute(f'DROP TRIGGER "{name}"')
        yield
        with connection.cursor() as cursor:
            for sql in saved.values():
                cursor.execute(sql)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in GUARDED_TABLES:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        yield
        with connection.cursor() as cursor:
            for table in GUARDED_TABLES:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    else:
        yield
