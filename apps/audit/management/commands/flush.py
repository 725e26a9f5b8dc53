"""Django's `flush`, able to empty the append-only audit tables.

The audit triggers refuse DELETE (SQLite's flush) and TRUNCATE (PostgreSQL's). This command
asks first (unless --noinput), then runs Django's flush inside one transaction that lifts
the triggers and restores them before committing; see apps/audit/triggers.py.
"""

from __future__ import annotations

from django.core.management.commands import flush
from django.db import connections, transaction

from apps.audit.triggers import guards_lifted

PROMPT = """You have requested a flush of the database.
This will IRREVERSIBLY DESTROY all data currently in the "%s" database,
including the audit trail, and return each table to an empty state.
Are you sure you want to do this?

    Type 'yes' to continue, or 'no' to cancel: """


class Command(flush.Command):
    help = flush.Command.help + " Empties the append-only audit trail too."

    def handle(self, **options) -> None:
        database = options["database"]
        connection = connections[database]
        if options["interactive"] and input(PROMPT % connection.settings_dict["NAME"]) != "yes":
            self.stdout.write("Flush cancelled.")
            return
        with transaction.atomic(using=database), guards_lifted(connection):
            super().handle(**{**options, "interactive": False})
