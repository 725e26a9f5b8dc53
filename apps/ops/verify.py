"""Check the configured database, alone or against a snapshot's manifest; stop at the
first problem.

In order:
1. integrity: SQLite `PRAGMA integrity_check`; PostgreSQL `SELECT 1` and, when the
   `amcheck` extension is installed, `bt_index_check` of every btree index;
2. versions: every project of the manifest serves the same artifact version (number and
   sha256), and no other project is published (without a manifest: every published
   version exists with status published);
3. audit: every hash chain walks clean (apps.audit.verify);
4. tables: the same tables as the manifest, each with the same row count and the same
   checksum of its rows.
The audit chain is checked before the tables so that a tampered audit row is named as
such, not as a checksum difference of the audit table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections

from apps.audit.verify import verify_chains
from apps.ops.backup import sqlite_path
from apps.ops.exceptions import VerifyFailed
from apps.ops.inventory import (
    Inventory,
    postgres_reader,
    sqlite_reader,
    take_inventory,
)
from apps.ops.snapshot import key_fingerprint, manifest_inventory
from apps.projects.models import AppVersion, Project

Report = Callable[[str], None]


def verify_database(
    manifest: dict[str, Any] | None, *, report: Report = print, database: str = "default"
) -> None:
    """Run the checks (module docstring); VerifyFailed names the first problem."""
    connection = connections[database]
    if manifest is not None and manifest["database"]["vendor"] != connection.vendor:
        raise VerifyFailed(
            f"the snapshot holds a {manifest['database']['vendor']} database; this instance "
            f"runs on {connection.vendor}"
        )
    expected = manifest_inventory(manifest) if manifest is not None else None
    check_integrity(connection, report)
    check_versions(expected, report)
    check_audit(report)
    if expected is not None:
        check_tables(connection, expected, manifest.get("name", "the snapshot"), report)
        if manifest.get("auth_key_fingerprint") not in (None, key_fingerprint()):
            report(
                "warning: the snapshot was taken with another OS_AUTH_SECRET: secret fields "
                "will not decrypt and sessions are void until the old key is set"
            )


def check_integrity(connection: Any, report: Report) -> None:
    if connection.vendor == "sqlite":
        with sqlite_reader(sqlite_path(connection.settings_dict)) as reader:
            result = [row[0] for row in reader.all("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise VerifyFailed(f"SQLite integrity_check: {result[0]}")
        report("integrity: SQLite integrity_check ok")
        return
    with postgres_reader(connection.settings_dict) as reader:
        reader.all("SELECT 1")
        if not reader.all("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"):
            report("integrity: PostgreSQL answers (amcheck not installed: rows counted below)")
            return
        indexes = reader.all(
            "SELECT c.oid::regclass::text FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE am.amname = 'btree' AND n.nspname = current_schema() ORDER BY 1"
        )
        for (index,) in indexes:
            try:
                reader.all("SELECT bt_index_check(%s::regclass)", (index,))
            except Exception as error:  # amcheck raises on corruption
                raise VerifyFailed(f"amcheck: index {index}: {str(error).splitlines()[0]}")
        report(f"integrity: PostgreSQL amcheck ok on {len(indexes)} btree indexes")


def check_versions(expected: Inventory | None, report: Report) -> None:
    published = {
        project.name: project.published_version
        for project in Project.objects.select_related("published_version").filter(
            published_version__isnull=False
        )
    }
    if expected is None:
        for name, version in sorted(published.items()):
            if version.status != AppVersion.Status.PUBLISHED:
                raise VerifyFailed(
                    f"project {name} serves version {version.number}, whose status is "
                    f"{version.status}"
                )
        report(f"versions: {_versions_text(published)}")
        return
    for name, wanted in sorted(expected.versions.items()):
        version = AppVersion.objects.filter(project__name=name, number=wanted.number).first()
        if version is None:
            raise VerifyFailed(f"project {name}: artifact version {wanted.number} is missing")
        if version.sha256 != wanted.sha256:
            raise VerifyFailed(
                f"project {name}: version {wanted.number} has sha256 {version.sha256[:12]}..., "
                f"the snapshot's has {wanted.sha256[:12]}..."
            )
        serving = published.get(name)
        if serving is None or serving.pk != version.pk:
            now = f"version {serving.number}" if serving is not None else "no version"
            raise VerifyFailed(f"project {name} serves {now}, the snapshot {wanted.number}")
    extra = sorted(set(published) - set(expected.versions))
    if extra:
        raise VerifyFailed(f"project {extra[0]} is published here but not in the snapshot")
    report(f"versions: {_versions_text(published)} as in the snapshot")


def _versions_text(published: dict[str, AppVersion]) -> str:
    if not published:
        return "no published project"
    return ", ".join(
        f"{name} v{version.number} ({version.sha256[:12]})"
        for name, version in sorted(published.items())
    )


def check_audit(report: Report) -> None:
    reports = verify_chains()
    for chain in reports:
        if not chain.ok:
            raise VerifyFailed(f"audit trail broken: {chain.summary()}")
    rows = sum(chain.rows for chain in reports)
    report(f"audit: {len(reports)} hash chain(s), {rows} rows OK")


def live_inventory(connection: Any) -> Inventory:
    if connection.vendor == "sqlite":
        with sqlite_reader(sqlite_path(connection.settings_dict)) as reader:
            return take_inventory(reader)
    with postgres_reader(connection.settings_dict) as reader:
        return take_inventory(reader)


def compare_tables(actual: Inventory, expected: Inventory) -> str | None:
    """The first difference between two inventories' tables, None when identical."""
    for table in sorted(set(expected.tables) | set(actual.tables)):
        want, have = expected.tables.get(table), actual.tables.get(table)
        if have is None:
            return f"table {table} of the snapshot is missing"
        if want is None:
            return f"table {table} ({have.rows} rows) is not in the snapshot"
        if have.rows != want.rows:
            return f"table {table} has {have.rows} rows, the snapshot {want.rows}"
        if have.sha256 != want.sha256:
            return f"table {table} has the snapshot's {want.rows} rows, but their values differ"
    return None


def check_tables(connection: Any, expected: Inventory, name: str, report: Report) -> None:
    actual = live_inventory(connection)
    problem = compare_tables(actual, expected)
    if problem is not None:
        raise VerifyFailed(problem)
    report(
        f"tables: {len(actual.tables)} tables, {actual.total_rows} rows, counts and checksums "
        f"identical to {name}"
    )
