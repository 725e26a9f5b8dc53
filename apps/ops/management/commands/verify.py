"""`manage.py verify [SNAPSHOT] [--no-snapshot]`: is the database sound and, after a restore,
identical to the snapshot?"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ops.exceptions import OpsError, SnapshotError
from apps.ops.snapshot import read_manifest
from apps.ops.stores import locate
from apps.ops.verify import verify_database


class Command(BaseCommand):
    help = (
        "Check the database (SQLite integrity_check / PostgreSQL checks), the published "
        "artifact versions and the audit hash chains and, against a snapshot's manifest "
        "(SNAPSHOT, else the newest in OS_BACKUP_DIR), the row count and checksum of every "
        "table. Exits non-zero naming the first problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "snapshot", nargs="?", help="folder, name in OS_BACKUP_DIR, s3:// URL or latest"
        )
        parser.add_argument(
            "--no-snapshot",
            action="store_true",
            help="check the database alone (a live database moves away from any snapshot)",
        )

    def handle(self, *args, snapshot: str | None, no_snapshot: bool, **options) -> None:
        try:
            manifest = None if no_snapshot else self._manifest(snapshot)
            verify_database(manifest, report=self.stdout.write)
        except OpsError as error:
            raise CommandError(f"verify failed: {error}")
        self.stdout.write(self.style.SUCCESS("verify: OK"))

    def _manifest(self, snapshot: str | None) -> dict | None:
        try:
            store, name = locate(snapshot)
        except SnapshotError:
            if snapshot is not None:
                raise
            self.stdout.write("no snapshot to compare with: checking the database alone")
            return None
        with store.fetch(name) as folder:
            manifest = read_manifest(folder)
        self.stdout.write(f"snapshot: {name} ({manifest['created_at']})")
        return manifest
