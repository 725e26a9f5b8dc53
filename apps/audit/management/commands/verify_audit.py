"""`manage.py verify_audit [PROJECT]`: walk the audit hash chains, report the first broken row."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.audit.triggers import missing_triggers
from apps.audit.verify import DEFAULT_CHUNK_SIZE, UNKNOWN, verify_chains


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chains (every chain, or one: a project's name or "
        "_system). Prints 'chain <name>: N rows OK' per chain; exits non-zero naming the "
        "first row that was altered or removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("chain", nargs="?", help="a project's name, or _system")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"rows read per round trip (default {DEFAULT_CHUNK_SIZE})",
        )

    def handle(self, *args, chain: str | None = None, chunk_size: int, **options) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        missing = missing_triggers(connection)
        if missing:
            self.stderr.write(
                "warning: append-only triggers missing or disabled on the audit tables: "
                + ", ".join(missing)
            )
        reports = verify_chains(chain, chunk_size=chunk_size)
        if chain is not None and reports[0].kind == UNKNOWN:
            raise CommandError(f"no audit chain named '{chain}'")
        if not reports:
            self.stdout.write("no audit chains yet")
        for report in reports:
            if report.ok:
                self.stdout.write(report.summary())
        broken = [report.summary() for report in reports if not report.ok]
        if broken:
            raise CommandError("audit trail broken: " + "; ".join(broken))
