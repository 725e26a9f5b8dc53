"""Take a snapshot of the database while the server keeps serving.

SQLite: the online backup API (`sqlite3.Connection.backup`) in ONE step. One step runs in
one read transaction, so the copy is a consistent point in time; in WAL mode a reader
never blocks writers, so requests keep committing while it copies (they go to the WAL).
It copies pages as they are; `VACUUM INTO` would give the same consistency at about the
same speed here (36 against 40 ms for the 10,000-row bench database) but rebuilds every
table and index, which grows with the indexes, and SQLite does not fsync its output. A
stepped backup (N pages at a time) would restart whenever another connection writes, and
might never finish under load; one step cannot be restarted.

PostgreSQL: `pg_dump --format=custom` on a snapshot exported by our own REPEATABLE READ
transaction (`pg_export_snapshot()`), and the row counts and checksums of the manifest are
read in that same transaction while pg_dump runs: they describe exactly what was dumped.

The manifest is always computed from the snapshot itself, never from the live database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connections

from apps.ops import pgtools
from apps.ops.exceptions import BackupFailed
from apps.ops.inventory import (
    Inventory,
    PostgresReader,
    open_postgres,
    sqlite_reader,
    take_inventory,
)
from apps.ops.snapshot import (
    DUMP_FILES,
    build_manifest,
    copy_number,
    snapshot_name,
    write_manifest,
)
from apps.ops.stores import Store, default_location, open_store

BUSY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class BackupResult:
    name: str
    location: str  # where to find it again (a folder path or an s3:// URL)
    manifest: dict[str, Any]


def take_backup(location: str | None = None, *, database: str = "default") -> BackupResult:
    """Snapshot the `database` connection's database into `location` (OS_BACKUP_DIR)."""
    connection = connections[database]
    store = open_store(location or default_location())
    staging = store.staging()
    try:
        started = time.perf_counter()
        created_at = datetime.now(UTC)
        if connection.vendor == "sqlite":
            dump, inventory, details = dump_sqlite(connection.settings_dict, staging)
        elif connection.vendor == "postgresql":
            dump, inventory, details = dump_postgres(connection.settings_dict, staging)
        else:
            raise BackupFailed(f"cannot back up a {connection.vendor} database")
        name = _unique_name(store, snapshot_name(created_at, inventory.versions))
        manifest = build_manifest(
            name=name,
            created_at=created_at,
            vendor=connection.vendor,
            database=details,
            dump=dump,
            inventory=inventory,
            seconds=time.perf_counter() - started,
        )
        write_manifest(staging, manifest)
        _fsync(staging / dump.name)
        return BackupResult(name=name, location=store.commit(staging, name), manifest=manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once committed


def _unique_name(store: Store, name: str) -> str:
    """`name`, or `name-N` past every snapshot of the same second already there (so the
    newest always sorts last, even after retention removed the first of that second)."""
    same = [n for n in store.names() if n == name or n.rsplit("-", 1)[0] == name]
    number = max((copy_number(n) for n in same), default=0) + 1
    candidate = name if number == 1 else f"{name}-{number}"
    while store.exists(candidate):
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def sqlite_path(settings_dict: dict[str, Any]) -> Path:
    """The database file of a SQLite settings entry (an in-memory database has none)."""
    name = str(settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupFailed("the SQLite database is in memory: there is no file to back up")
    return Path(name.removeprefix("file:").split("?", 1)[0]).resolve()


def dump_sqlite(
    settings_dict: dict[str, Any], staging: Path
) -> tuple[Path, Inventory, dict[str, Any]]:
    source_path = sqlite_path(settings_dict)
    if not source_path.is_file():
        raise BackupFailed(f"no SQLite database at {source_path}")
    target = staging / DUMP_FILES["sqlite"]
    source = sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        source.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)  # pages=-1: everything in one step (see the docstring)
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            destination.close()
    except sqlite3.Error as error:
        raise BackupFailed(f"SQLite backup of {source_path} failed: {error}")
    finally:
        source.close()
    with sqlite_reader(target) as reader:
        check = reader.all("PRAGMA quick_check")
        if [row[0] for row in check] != ["ok"]:
            raise BackupFailed(f"the snapshot of {source_path} fails quick_check: {check[0][0]}")
        inventory = take_inventory(reader)
    details = {
        "method": "sqlite3 online backup API",
        "sqlite_version": sqlite3.sqlite_version,
        "source": str(source_path),
    }
    return target, inventory, details


def dump_postgres(
    settings_dict: dict[str, Any], staging: Path
) -> tuple[Path, Inventory, dict[str, Any]]:
    import psycopg

    pg_dump = pgtools.find_program("pg_dump")
    target = staging / DUMP_FILES["postgresql"]
    wrapper = open_postgres(settings_dict, "objectos_backup")
    try:
        raw = wrapper.connection
        raw.autocommit = False
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        exported = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        server_version = raw.execute("SHOW server_version").fetchone()[0]
        process = subprocess.Popen(
            [pg_dump, "--format=custom", f"--snapshot={exported}", "--no-password",
             f"--file={target}"],
            env=pgtools.environment(settings_dict),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            inventory = take_inventory(PostgresReader(raw))  # same snapshot, meanwhile
            _out, errors = process.communicate()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        raw.rollback()
    finally:
        wrapper.close()
    if process.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {pgtools.first_error(errors)}")
    details = {
        "method": "pg_dump --format=custom",
        "server_version": server_version,
        "pg_dump": pgtools.program_version(pg_dump),
        "name": settings_dict.get("NAME"),
    }
    return target, inventory, details
