"""`manage.py restore SNAPSHOT [--force]`: put a snapshot back into the configured database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ops.exceptions import OpsError
from apps.ops.restore import restore_snapshot


class Command(BaseCommand):
    help = (
        "Replace the configured database with a snapshot: a folder, a name in "
        "OS_BACKUP_DIR, s3://bucket/prefix/NAME or 'latest'. Checks the dump's sha256 first "
        "and refuses while a server or worker uses the database, unless --force. Run "
        "`manage.py verify SNAPSHOT` next, then start the server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("snapshot", help="folder, name in OS_BACKUP_DIR, s3:// URL or latest")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even though a server or another connection uses the database "
            "(restart those processes afterwards)",
        )

    def handle(self, *args, snapshot: str, force: bool, **options) -> None:
        try:
            manifest = restore_snapshot(snapshot, force=force)
        except OpsError as error:
            raise CommandError(str(error))
        projects = ", ".join(
            f"{name} v{version['version']}" for name, version in manifest["projects"].items()
        )
        self.stdout.write(
            f"restored {manifest['name']} ({manifest['database']['vendor']}, "
            f"{len(manifest['tables'])} tables, {manifest['total_rows']} rows; "
            f"{projects or 'no published project'})"
        )
        self.stdout.write(f"next: python manage.py verify {snapshot}")
