"""The chain head advances in the database, as the event is inserted.

An AFTER INSERT trigger on audit events moves its chain's head to the new event, so an
append is one INSERT instead of an INSERT and an UPDATE (one statement less on every
write, one round trip less on PostgreSQL), and the head can no longer lag behind its
newest event. The head's own guard (`os_audit_head_advances`, migration 0002) still
checks every move: by exactly one, to the event just inserted.
The SQL is written out here, not imported, so this migration stays what it was.
"""

from django.db import migrations

ADVANCE = (
    "UPDATE os_audit_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash "
    "WHERE chain = NEW.chain"
)

STATEMENTS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER os_audit_event_advances_head AFTER INSERT ON os_audit_auditevent
            BEGIN {ADVANCE}; END"""
        ],
        ["DROP TRIGGER IF EXISTS os_audit_event_advances_head"],
    ),
    "postgresql": (
        [
            f"""CREATE FUNCTION os_audit_event_advances_head() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                {ADVANCE};
                RETURN NULL;
            END $$""",
            """CREATE TRIGGER os_audit_event_advances_head AFTER INSERT ON os_audit_auditevent
            FOR EACH ROW EXECUTE FUNCTION os_audit_event_advances_head()""",
        ],
        [
            "DROP TRIGGER IF EXISTS os_audit_event_advances_head ON os_audit_auditevent",
            "DROP FUNCTION IF EXISTS os_audit_event_advances_head()",
        ],
    ),
}


def _run(schema_editor, index: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:  # other databases: the writer would have to advance the head
        return
    for sql in statements[index]:
        schema_editor.execute(sql, params=None)


def create_trigger(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_trigger(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("os_audit", "0002_append_only_triggers")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
