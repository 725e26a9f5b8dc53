"""backup, restore, verify: hot snapshots under writes, restored into a fresh database
(a new data dir, or a new PostgreSQL database) by the real commands in their own process.

Run alone with isolated names, as other suites may run beside it:
    OS_DATA_DIR=/tmp/backup_tests .venv/bin/pytest tests/ops/test_backup.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/objectos_backup ... (same)
Restore targets on PostgreSQL are throwaway databases named objectos_backup_r_<random>,
dropped after each test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from apps.ops import tasks
from apps.ops.backup import take_backup
from apps.ops.inventory import Inventory, PublishedVersion, postgres_reader, sqlite_reader
from apps.ops.inventory import take_inventory as inventory_of
from apps.ops.schedules import BACKUP_SCHEDULE, BACKUP_TASK
from apps.ops.snapshot import MAX_NAME_LENGTH, file_sha256, manifest_inventory, snapshot_name
from apps.ops.stores import open_store, prune
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
CUSTOMERS = "/api/v1/data/demo_customer"
CUSTOMER_TABLE = "bk__demo_customer"


@pytest.fixture
def project():
    """The demo artifact published as project `bk` (tables bk__demo_*), seed data in.
    Its tables are dropped afterwards with foreign keys off: their rows refer to each other."""
    yield factories.publish_artifact("bk", factories.demo_artifact(), hosts=["bk.test"])
    tables = [t for t in connection.introspection.table_names() if t.startswith("bk__")]
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for table in tables:
            cascade = " CASCADE" if connection.vendor == "postgresql" else ""
            cursor.execute(f'DROP TABLE IF EXISTS "{table}"{cascade}')


@pytest.fixture
def admin(project):
    return factories.make_user("admin@bk.test", project, superuser=True)


def add_customers(project, admin, count: int, prefix: str) -> None:
    client = factories.api_client(project, admin)
    for start in range(0, count, 200):
        records = [{"name": f"{prefix} {n}"} for n in range(start, min(count, start + 200))]
        response = client.post(f"{CUSTOMERS}/createMany", {"records": records}, format="json")
        assert response.status_code == 201, response.content


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        return cursor.fetchone()[0]


@dataclass
class Target:
    """A fresh database and data dir that the commands run against, in their own process."""

    vendor: str
    data_dir: Path
    settings_dict: dict[str, Any]
    overrides: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {**os.environ, **self.overrides}
        if self.vendor == "sqlite":
            env.pop("DATABASE_URL", None)
        return env

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def inventory(self) -> Inventory:
        if self.vendor == "sqlite":
            with sqlite_reader(self.settings_dict["NAME"]) as reader:
                return inventory_of(reader)
        with postgres_reader(self.settings_dict) as reader:
            return inventory_of(reader)

    def execute(self, *statements: str) -> None:
        if self.vendor == "sqlite":
            db = sqlite3.connect(self.settings_dict["NAME"])
            try:
                for statement in statements:
                    db.execute(statement)
                db.commit()
            finally:
                db.close()
            return
        import psycopg

        with psycopg.connect(dsn(self.settings_dict), autocommit=True) as db:
            for statement in statements:
                db.execute(statement)


def dsn(settings_dict: dict[str, Any], name: str | None = None) -> str:
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name or settings_dict['NAME']}"


@pytest.fixture
def target(tmp_path) -> Iterator[Target]:
    data_dir = tmp_path / "restored"
    data_dir.mkdir()
    # Same signing key as the instance backed up (the runbook's step: keep OS_AUTH_SECRET).
    overrides = {"OS_DATA_DIR": str(data_dir), "OS_AUTH_SECRET": settings.SECRET_KEY}
    if connection.vendor == "sqlite":
        sqlite_settings = {"NAME": str(data_dir / "objectos.sqlite3")}
        yield Target("sqlite", data_dir, sqlite_settings, overrides)
        return
    import psycopg

    name = f"objectos_backup_r_{uuid.uuid4().hex[:10]}"
    admin_dsn = dsn(connection.settings_dict, "postgres")
    with psycopg.connect(admin_dsn, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    overrides["DATABASE_URL"] = dsn(connection.settings_dict, name)
    try:
        yield Target("postgresql", data_dir, {**connection.settings_dict, "NAME": name}, overrides)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_identical(restored: Inventory, manifest: dict[str, Any]) -> None:
    expected = manifest_inventory(manifest)
    assert sorted(restored.tables) == sorted(expected.tables)
    for table, state in expected.tables.items():
        assert restored.tables[table] == state, table
    assert restored.versions == expected.versions


def one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode != 0, run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


# --- a backup under concurrent writes, restored and verified identical ----------------


def test_backup_under_concurrent_writes_restores_identical(project, admin, tmp_path, target):
    add_customers(project, admin, 2000, "seed")
    stop, written, errors = threading.Event(), [], []

    def write_through_the_api() -> None:
        client = factories.api_client(project, admin)
        try:
            number = 0
            while not stop.is_set():
                response = client.post(CUSTOMERS, {"name": f"live {number}"}, format="json")
                if response.status_code != 201:
                    errors.append(response.content)
                    return
                written.append(time.monotonic())
                number += 1
        except Exception as error:  # reported by the main thread
            errors.append(repr(error))
        finally:
            connection.close()

    writer = threading.Thread(target=write_through_the_api)
    writer.start()
    try:
        while len(written) < 5 and not errors:
            time.sleep(0.01)
        before = rows_in(CUSTOMER_TABLE)
        started = time.monotonic()
        result = take_backup(str(tmp_path / "backups"))
        finished = time.monotonic()
        while len([t for t in written if t > finished]) < 5 and not errors:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(30)
    assert not errors, errors
    after = rows_in(CUSTOMER_TABLE)
    during = [t for t in written if started < t < finished]
    assert during, "no write committed while the backup ran"
    manifest = result.manifest
    snapshot_rows = manifest["tables"][CUSTOMER_TABLE]["rows"]
    assert before <= snapshot_rows < after

    restored = target.manage("restore", result.location)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {result.name}" in restored.stdout
    assert_identical(target.inventory(), manifest)
    verified = target.manage("verify", result.location)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines()[-1] == "verify: OK"
    assert f"tables: {len(manifest['tables'])} tables, {manifest['total_rows']} rows" in (
        verified.stdout
    )
    assert "warning" not in verified.stdout


def test_the_manifest_names_versions_every_table_and_the_dump_checksum(project, admin, tmp_path):
    add_customers(project, admin, 3, "m")
    result = take_backup(str(tmp_path))
    manifest = result.manifest
    version = project.published_version
    assert re.fullmatch(r"objectos-\d{8}T\d{6}Z-[A-Za-z0-9_.-]+", result.name)
    assert "-bk.v1" in result.name
    assert manifest["name"] == result.name
    assert manifest["format"] == "objectos-backup" and manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == connection.vendor
    assert set(manifest["software"]) == {"objectos", "django"}
    assert manifest["projects"]["bk"] == {"version": version.number, "sha256": version.sha256}
    assert set(manifest["tables"]) == set(connection.introspection.table_names())
    for table in ("bk__demo_customer", "bk__demo_invoice", "os_audit_auditevent", "auth_user"):
        assert manifest["tables"][table]["rows"] == rows_in(table), table
    folder = Path(result.location)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json", manifest["dump"]["file"]]
    )
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    assert file_sha256(folder / manifest["dump"]["file"]) == manifest["dump"]["sha256"]
    assert open_store(str(tmp_path)).names() == [result.name]


def test_backup_command_prints_the_snapshot_and_where_it_went(project, tmp_path):
    out = StringIO()
    call_command("backup", "--to", str(tmp_path), stdout=out)
    first, second = out.getvalue().splitlines()
    name = open_store(str(tmp_path)).names()[0]
    assert first.startswith(f"snapshot {name}: ")
    assert second == f"written to {tmp_path / name}"


def test_snapshot_names_stay_short_with_many_projects():
    at = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert snapshot_name(at, {}) == "objectos-20261121T120000Z"
    two = {"demo": PublishedVersion(3, "a"), "crm": PublishedVersion(1, "b")}
    assert snapshot_name(at, two) == "objectos-20261121T120000Z-crm.v1-demo.v3"
    many = {f"project_{n:02}_{'x' * 20}": PublishedVersion(n, "c") for n in range(20)}
    name = snapshot_name(at, many)
    assert len(name) <= MAX_NAME_LENGTH
    assert re.search(r"-and-\d+-more$", name)


# --- restore refusals ------------------------------------------------------------------


def test_restore_of_a_corrupted_snapshot_is_refused_and_the_database_untouched(
    project, admin, tmp_path, target
):
    good = take_backup(str(tmp_path / "backups"))
    assert target.manage("restore", good.location).returncode == 0
    add_customers(project, admin, 5, "later")
    newer = take_backup(str(tmp_path / "backups"))
    before = target.inventory()

    corrupted = tmp_path / "corrupted" / newer.name
    shutil.copytree(newer.location, corrupted)
    dump = corrupted / newer.manifest["dump"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    run = target.manage("restore", str(corrupted))
    error = one_line_error(run)
    assert error.startswith(f"CommandError: snapshot {newer.name} is corrupted: ")
    assert error.endswith("; nothing was restored")
    assert target.inventory() == before
    assert not list(target.data_dir.glob("*.restoring"))

    (corrupted / "manifest.json").unlink()
    error = one_line_error(target.manage("restore", str(corrupted)))
    assert error == f"CommandError: {corrupted} is not a snapshot: it has no manifest.json"
    assert target.inventory() == before


def test_restore_is_refused_while_a_server_runs_unless_forced(project, tmp_path, target):
    result = take_backup(str(tmp_path / "backups"))
    # A web process: importing the WSGI module takes the server lock for its lifetime.
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys, objectos_site.wsgi; print('up', flush=True); "
         "sys.stdin.read()"],
        cwd=REPO, env=target.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout.readline().strip() == "up"
        error = one_line_error(target.manage("restore", result.location))
        assert "a server (web or worker) is running on this instance" in error
        assert "pass --force" in error
        forced = target.manage("restore", result.location, "--force")
        assert forced.returncode == 0, forced.stderr
    finally:
        server.stdin.close()
        server.wait(30)
    # The lock goes with the process.
    again = target.manage("restore", result.location)
    assert again.returncode == 0, again.stderr
    assert_identical(target.inventory(), result.manifest)


def test_restore_on_postgresql_is_refused_while_another_client_is_connected(
    project, tmp_path, target
):
    if target.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    import psycopg

    result = take_backup(str(tmp_path / "backups"))
    with psycopg.connect(dsn(target.settings_dict), application_name="other-web-node"):
        error = one_line_error(target.manage("restore", result.location))
        assert f"1 other connection(s) to database {target.settings_dict['NAME']}" in error
        assert "other-web-node" in error
        forced = target.manage("restore", result.location, "--force")
        assert forced.returncode == 0, forced.stderr
    assert_identical(target.inventory(), result.manifest)


# --- verify ----------------------------------------------------------------------------


def test_verify_names_a_row_count_mismatch_and_a_broken_audit_chain(
    project, admin, tmp_path, target
):
    add_customers(project, admin, 3, "audited")
    result = take_backup(str(tmp_path / "backups"))
    assert target.manage("restore", result.location).returncode == 0
    assert target.manage("verify", result.location).returncode == 0

    sessions = result.manifest["tables"]["django_session"]["rows"]
    target.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date) "
        "VALUES ('extra', 'x', '2030-01-01 00:00:00')"
    )
    error = one_line_error(target.manage("verify", result.location))
    assert error == (
        f"CommandError: verify failed: table django_session has {sessions + 1} rows, the "
        f"snapshot {sessions}"
    )
    target.execute("DELETE FROM django_session WHERE session_key = 'extra'")
    assert target.manage("verify", result.location).returncode == 0

    drop_guard = (
        "DROP TRIGGER os_audit_event_no_update"
        if target.vendor == "sqlite"
        else "DROP TRIGGER os_audit_event_no_change ON os_audit_auditevent"
    )
    target.execute(
        drop_guard,
        "UPDATE os_audit_auditevent SET user_agent = 'tampered' WHERE chain = 'bk' AND seq = 2",
    )
    error = one_line_error(target.manage("verify", result.location))
    assert re.fullmatch(
        r"CommandError: verify failed: audit trail broken: chain bk: row seq 2 \(id \d+\) "
        r"was altered",
        error,
    ), error
    # Without a snapshot the audit chain is still walked.
    alone = target.manage("verify", "--no-snapshot")
    assert "audit trail broken: chain bk: row seq 2" in one_line_error(alone)


def test_verify_without_a_snapshot_checks_the_database_alone(project, tmp_path, target):
    result = take_backup(str(tmp_path / "backups"))
    assert target.manage("restore", result.location).returncode == 0
    run = target.manage("verify")  # the target's OS_BACKUP_DIR is empty
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "no snapshot to compare with: checking the database alone"
    assert lines[-1] == "verify: OK"
    assert any(line.startswith("versions: bk v1 (") for line in lines)


# --- scheduled backups and retention ---------------------------------------------------


def test_scheduled_backup_keeps_the_newest_snapshots(project, tmp_path, settings):
    settings.OS_BACKUP_DIR = str(tmp_path / "scheduled")
    settings.OS_BACKUP_KEEP = 2
    runs = [tasks.scheduled_backup() for _ in range(4)]
    names = [run["snapshot"] for run in runs]
    assert [run["removed"] for run in runs] == [[], [], names[:1], names[1:2]]
    store = open_store(settings.OS_BACKUP_DIR)
    assert store.names() == names[2:]
    assert sorted(p.name for p in (tmp_path / "scheduled").iterdir()) == names[2:]
    assert prune(store, 1) == names[2:3]
    assert store.names() == names[3:]


def test_ensure_schedules_creates_updates_and_removes_the_backup_schedule(settings):
    def ensure() -> str:
        out = StringIO()
        call_command("ensure_schedules", stdout=out)
        return out.getvalue().strip().splitlines()[0]  # the second line: the outbox schedule

    settings.OS_BACKUP_SCHEDULE = ""
    assert ensure() == f"schedule {BACKUP_SCHEDULE}: absent"
    settings.OS_BACKUP_SCHEDULE = "0 3 * * *"
    assert ensure() == f"schedule {BACKUP_SCHEDULE}: created"
    assert ensure() == f"schedule {BACKUP_SCHEDULE}: unchanged"
    (schedule,) = Schedule.objects.filter(name=BACKUP_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.cron, schedule.repeats) == (
        BACKUP_TASK,
        Schedule.CRON,
        "0 3 * * *",
        -1,
    )
    assert schedule.next_run > timezone.now()  # not at once
    assert (schedule.next_run.hour, schedule.next_run.minute) == (3, 0)
    settings.OS_BACKUP_SCHEDULE = "30 2 * * 0"
    assert ensure() == f"schedule {BACKUP_SCHEDULE}: updated"
    schedule.refresh_from_db()
    assert schedule.cron == "30 2 * * 0" and schedule.next_run.weekday() == 6
    settings.OS_BACKUP_SCHEDULE = "every night"
    with pytest.raises(CommandError, match="is not a cron expression"):
        ensure()
    settings.OS_BACKUP_SCHEDULE = ""
    assert ensure() == f"schedule {BACKUP_SCHEDULE}: removed"
    assert not Schedule.objects.filter(name=BACKUP_SCHEDULE).exists()


# --- S3-compatible storage (moto's server on loopback) ---------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch) -> Iterator[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="objectos-backups")
        yield endpoint
    finally:
        server.stop()


def test_s3_round_trip(project, admin, s3_endpoint, target):
    import boto3

    location = f"s3://objectos-backups/nightly?endpoint={s3_endpoint}"
    first = take_backup(location)
    add_customers(project, admin, 4, "s3")
    out = StringIO()
    call_command("backup", "--to", location, stdout=out)
    store = open_store(location)
    names = store.names()
    assert names[0] == first.name and len(names) == 2
    second = names[1]
    assert f"written to s3://objectos-backups/nightly/{second}?endpoint=" in out.getvalue()
    keys = sorted(
        item["Key"]
        for item in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(
            Bucket="objectos-backups"
        )["Contents"]
    )
    dump_file = first.manifest["dump"]["file"]
    assert keys == sorted(
        f"nightly/{name}/{file}" for name in names for file in ("manifest.json", dump_file)
    )

    reference = f"s3://objectos-backups/nightly/{second}?endpoint={s3_endpoint}"
    restored = target.manage("restore", reference)
    assert restored.returncode == 0, restored.stderr
    verified = target.manage("verify", reference)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines()[-1] == "verify: OK"
    assert target.inventory().tables[CUSTOMER_TABLE].rows == rows_in(CUSTOMER_TABLE)

    assert prune(store, 1) == [first.name]
    assert store.names() == [second]
