"""Append-only below the ORM: database triggers refuse to rewrite the audit trail.

- audit events: UPDATE and DELETE are refused (PostgreSQL: TRUNCATE too); an INSERT must
  extend its chain's tip (seq = head.last_seq + 1, prev_hash = head.last_hash);
- chain heads: start empty, advance by exactly one to the event just appended, are never
  deleted (PostgreSQL: nor truncated).

Lifting them takes DDL rights (DROP TRIGGER, ALTER TABLE ... DISABLE TRIGGER); the only
place the application does so is the `flush` command (apps/audit/triggers.py).
The SQL is written out here, not imported, so this migration stays what it was.
"""

from django.db import migrations

APPEND_ONLY = "audit events are append-only"
TIP_ONLY = "an audit event must extend the tip of its chain"
HEAD_STARTS_EMPTY = "an audit chain head starts empty"
HEAD_ADVANCES = "an audit chain head only advances to its newest event"
HEAD_KEPT = "audit chain heads cannot be deleted"

EVENT_AT_TIP = """
    NEW.seq IS NOT (SELECT h.last_seq + 1 FROM os_audit_auditchainhead h WHERE h.chain = NEW.chain)
    OR NEW.prev_hash IS NOT (SELECT h.last_hash FROM os_audit_auditchainhead h
                             WHERE h.chain = NEW.chain)
"""
HEAD_AT_NEWEST_EVENT = """
    NEW.id <> OLD.id OR NEW.chain <> OLD.chain OR NEW.last_seq <> OLD.last_seq + 1
    OR NEW.last_hash IS NOT (SELECT e.hash FROM os_audit_auditevent e
                             WHERE e.chain = NEW.chain AND e.seq = NEW.last_seq)
"""

SQLITE_CREATE = [
    f"""CREATE TRIGGER os_audit_event_no_update BEFORE UPDATE ON os_audit_auditevent
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER os_audit_event_no_delete BEFORE DELETE ON os_audit_auditevent
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER os_audit_event_at_tip BEFORE INSERT ON os_audit_auditevent
    WHEN {EVENT_AT_TIP}
    BEGIN SELECT RAISE(ABORT, '{TIP_ONLY}'); END""",
    f"""CREATE TRIGGER os_audit_head_starts_empty BEFORE INSERT ON os_audit_auditchainhead
    WHEN NEW.last_seq <> 0 OR NEW.last_hash <> ''
    BEGIN SELECT RAISE(ABORT, '{HEAD_STARTS_EMPTY}'); END""",
    f"""CREATE TRIGGER os_audit_head_advances BEFORE UPDATE ON os_audit_auditchainhead
    WHEN {HEAD_AT_NEWEST_EVENT}
    BEGIN SELECT RAISE(ABORT, '{HEAD_ADVANCES}'); END""",
    f"""CREATE TRIGGER os_audit_head_no_delete BEFORE DELETE ON os_audit_auditchainhead
    BEGIN SELECT RAISE(ABORT, '{HEAD_KEPT}'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "os_audit_event_no_update",
        "os_audit_event_no_delete",
        "os_audit_event_at_tip",
        "os_audit_head_starts_empty",
        "os_audit_head_advances",
        "os_audit_head_no_delete",
    )
]

# SQLSTATE 23000 (integrity_constraint_violation): Django raises IntegrityError, as on SQLite.
POSTGRES_CREATE = [
    """CREATE FUNCTION os_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '23000';
    END $$""",
    """CREATE FUNCTION os_audit_event_at_tip() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq IS DISTINCT FROM (SELECT h.last_seq + 1 FROM os_audit_auditchainhead h
                                     WHERE h.chain = NEW.chain)
           OR NEW.prev_hash IS DISTINCT FROM (SELECT h.last_hash FROM os_audit_auditchainhead h
                                              WHERE h.chain = NEW.chain) THEN
            RAISE EXCEPTION 'an audit event must extend the tip of its chain' USING ERRCODE = '23000';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION os_audit_head_starts_empty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.last_seq <> 0 OR NEW.last_hash <> '' THEN
            RAISE EXCEPTION '{HEAD_STARTS_EMPTY}' USING ERRCODE = '23000';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE FUNCTION os_audit_head_advances() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id <> OLD.id OR NEW.chain <> OLD.chain OR NEW.last_seq <> OLD.last_seq + 1
           OR NEW.last_hash IS DISTINCT FROM (SELECT e.hash FROM os_audit_auditevent e
                                              WHERE e.chain = NEW.chain
                                              AND e.seq = NEW.last_seq) THEN
            RAISE EXCEPTION 'an audit chain head only advances to its newest event' USING ERRCODE = '23000';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER os_audit_event_no_change BEFORE UPDATE OR DELETE ON os_audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION os_audit_refuse('{APPEND_ONLY}')""",
    f"""CREATE TRIGGER os_audit_event_no_truncate BEFORE TRUNCATE ON os_audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION os_audit_refuse('{APPEND_ONLY}')""",
    """CREATE TRIGGER os_audit_event_at_tip BEFORE INSERT ON os_audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION os_audit_event_at_tip()""",
    """CREATE TRIGGER os_audit_head_starts_empty BEFORE INSERT ON os_audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION os_audit_head_starts_empty()""",
    """CREATE TRIGGER os_audit_head_advances BEFORE UPDATE ON os_audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION os_audit_head_advances()""",
    f"""CREATE TRIGGER os_audit_head_no_delete BEFORE DELETE ON os_audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION os_audit_refuse('{HEAD_KEPT}')""",
    f"""CREATE TRIGGER os_audit_head_no_truncate BEFORE TRUNCATE ON os_audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION os_audit_refuse('{HEAD_KEPT}')""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS os_audit_event_no_change ON os_audit_auditevent",
    "DROP TRIGGER IF EXISTS os_audit_event_no_truncate ON os_audit_auditevent",
    "DROP TRIGGER IF EXISTS os_audit_event_at_tip ON os_audit_auditevent",
    "DROP TRIGGER IF EXISTS os_audit_head_starts_empty ON os_audit_auditchainhead",
    "DROP TRIGGER IF EXISTS os_audit_head_advances ON os_audit_auditchainhead",
    "DROP TRIGGER IF EXISTS os_audit_head_no_delete ON os_audit_auditchainhead",
    "DROP TRIGGER IF EXISTS os_audit_head_no_truncate ON os_audit_auditchainhead",
    "DROP FUNCTION IF EXISTS os_audit_refuse()",
    "DROP FUNCTION IF EXISTS os_audit_event_at_tip()",
    "DROP FUNCTION IF EXISTS os_audit_head_starts_empty()",
    "DROP FUNCTION IF EXISTS os_audit_head_advances()",
]
STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP),
}


def _run(schema_editor, index: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:  # other databases: the ORM guard (AuditEvent.save/delete) only
        return
    for sql in statements[index]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("os_audit", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
