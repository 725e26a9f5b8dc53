"""Put a snapshot back into the configured database, all or nothing.

Before anything is touched: the manifest is read, the dump's sha256 is checked against
it (a corrupted snapshot is refused), and no server may be running (the server lock, and
on PostgreSQL no other client connection to the database) unless `force`.

SQLite: the dump is copied next to the live file (`<db>.restoring`, sha256 checked again
while copying, `integrity_check` run on it), the old database's WAL is checkpointed, the
stale `-wal`/`-shm` are removed (a WAL left behind would be replayed onto the new file)
and the copy is renamed over the live file: one atomic `rename`.

PostgreSQL: the schema is dropped and recreated and the dump replayed
(`pg_restore --no-owner --no-privileges` piped into `psql --single-transaction`) in ONE
transaction: a failure leaves the database as it was. Roles need not exist on the target.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.db import connections

from apps.ops import pgtools
from apps.ops.backup import sqlite_path
from apps.ops.exceptions import RestoreFailed, ServerRunning, SnapshotCorrupted
from apps.ops.inventory import open_postgres, quote, sqlite_reader
from apps.ops.serverlock import server_stopped
from apps.ops.snapshot import CHUNK, check_dump, read_manifest
from apps.ops.stores import locate

LOCK_TIMEOUT = "60s"


def restore_snapshot(
    reference: str | None, *, force: bool = False, database: str = "default"
) -> dict[str, Any]:
    """Restore the snapshot `reference` (see stores.locate) and return its manifest."""
    store, name = locate(reference)
    connection = connections[database]
    with store.fetch(name) as folder:
        manifest = read_manifest(folder)
        vendor = manifest["database"]["vendor"]
        if vendor != connection.vendor:
            raise RestoreFailed(
                f"snapshot {name} holds a {vendor} database; this instance runs on "
                f"{connection.vendor}; nothing was restored"
            )
        try:
            dump = check_dump(folder, manifest)
        except SnapshotCorrupted as error:
            raise SnapshotCorrupted(f"{error}; nothing was restored")
        settings_dict = dict(connection.settings_dict)
        with server_stopped(force=force):
            connections.close_all()
            if vendor == "sqlite":
                restore_sqlite(dump, manifest["dump"]["sha256"], settings_dict)
            else:
                refuse_other_connections(settings_dict, force=force)
                restore_postgres(dump, settings_dict)
    return manifest


def _copy_hashing(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest()


def restore_sqlite(dump: Path, sha256: str, settings_dict: dict[str, Any]) -> None:
    live = sqlite_path(settings_dict)
    live.parent.mkdir(parents=True, exist_ok=True)
    staged = live.with_name(live.name + ".restoring")
    try:
        if _copy_hashing(dump, staged) != sha256:
            raise SnapshotCorrupted(
                f"{dump} changed while it was being copied; nothing was restored"
            )
        with sqlite_reader(staged) as reader:
            result = [row[0] for row in reader.all("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise RestoreFailed(
                f"the snapshot fails integrity_check ({result[0]}); nothing was restored"
            )
        if live.exists():
            # Fold the old WAL into the old file, so removing the WAL below loses nothing
            # even if we stop before the rename.
            old = sqlite3.connect(live, timeout=30)
            try:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                old.close()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        os.replace(staged, live)
    finally:
        staged.unlink(missing_ok=True)
    descriptor = os.open(live.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def refuse_other_connections(settings_dict: dict[str, Any], *, force: bool) -> None:
    """ServerRunning when another client is connected to the database (unless force)."""
    wrapper = open_postgres(settings_dict, "objectos_restore")
    try:
        others = wrapper.connection.execute(
            "SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), 'local') "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY pid"
        ).fetchall()
    finally:
        wrapper.close()
    if others and not force:
        pid, application, address = others[0]
        raise ServerRunning(
            f"{len(others)} other connection(s) to database {settings_dict['NAME']} (first: "
            f"pid {pid} from {address}{f', {application}' if application else ''}): stop "
            "the servers and workers first, or pass --force"
        )


def _schema(settings_dict: dict[str, Any]) -> str:
    wrapper = open_postgres(settings_dict, "objectos_restore")
    try:
        return wrapper.connection.execute("SELECT current_schema()").fetchone()[0] or "public"
    finally:
        wrapper.close()


def restore_postgres(dump: Path, settings_dict: dict[str, Any]) -> None:
    """Replay `dump` after dropping the schema, in one transaction that we commit only
    after pg_restore has written the whole script: should pg_restore or psql fail, psql
    ends without COMMIT and PostgreSQL rolls everything back."""
    pg_restore, psql = pgtools.find_program("pg_restore"), pgtools.find_program("psql")
    schema = quote(_schema(settings_dict))
    prelude = (
        "BEGIN;\n"
        "SET LOCAL client_min_messages = warning;\n"
        f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n"
        f"DROP SCHEMA IF EXISTS {schema} CASCADE;\n"
        f"CREATE SCHEMA {schema};\n"
    )
    env = pgtools.environment(settings_dict)
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        script = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        loader = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert script.stdout is not None and loader.stdin is not None
        try:
            loader.stdin.write(prelude.encode())
            shutil.copyfileobj(script.stdout, loader.stdin, CHUNK)
            if script.wait() == 0:
                loader.stdin.write(b"COMMIT;\n")
            else:
                loader.kill()  # no COMMIT: the server rolls the transaction back
        except BrokenPipeError:
            pass  # psql stopped at an error (ON_ERROR_STOP): reported below
        finally:
            script.stdout.close()
            try:
                loader.stdin.close()
            except BrokenPipeError:
                pass
            script.wait()
            loader.wait()
        for process, errors, what in (
            (script, restore_errors, "pg_restore"),
            (loader, psql_errors, "psql"),
        ):
            if process.returncode != 0:
                errors.seek(0)
                message = pgtools.first_error(errors.read().decode(errors="replace"))
                raise RestoreFailed(
                    f"{what} failed and the restore was rolled back (the database is as it "
                    f"was): {message}"
                )
    wrapper = open_postgres(settings_dict, "objectos_restore")
    try:
        wrapper.connection.execute("ANALYZE")
    finally:
        wrapper.close()
