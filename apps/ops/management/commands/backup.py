"""`manage.py backup [--to DIR|s3://bucket/prefix] [--keep N]`: a hot snapshot of the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ops.backup import take_backup
from apps.ops.exceptions import OpsError
from apps.ops.stores import default_location, open_store, prune


class Command(BaseCommand):
    help = (
        "Snapshot the database while the server keeps serving (SQLite online backup API, "
        "PostgreSQL pg_dump) into a folder named objectos-<UTC time>-<project>.v<N>... "
        "holding the dump and manifest.json. Default destination: OS_BACKUP_DIR."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            dest="location",
            help="a folder, or s3://bucket/prefix[?endpoint=URL&region=R] (default: OS_BACKUP_DIR)",
        )
        parser.add_argument(
            "--keep", type=int, help="then delete all but the N newest snapshots there"
        )

    def handle(self, *args, location: str | None, keep: int | None, **options) -> None:
        location = location or default_location()
        try:
            result = take_backup(location)
            removed = prune(open_store(location), keep) if keep is not None else []
        except OpsError as error:
            raise CommandError(str(error))
        manifest = result.manifest
        dump = manifest["dump"]
        self.stdout.write(
            f"snapshot {result.name}: {len(manifest['tables'])} tables, "
            f"{manifest['total_rows']} rows, {dump['bytes'] / 1048576:.1f} MiB dump, "
            f"{manifest['seconds']:.2f} s"
        )
        self.stdout.write(f"written to {result.location}")
        for name in removed:
            self.stdout.write(f"removed {name} (keeping {keep})")
