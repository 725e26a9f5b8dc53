"""A real server (gunicorn) whose database really goes away and comes back.

On PostgreSQL the server gets a private throwaway cluster (initdb + pg_ctl on a free
port, socket in its own directory): the cluster is stopped and started again; the
machine's shared server on 5432 is never touched. On SQLite the database directory is
moved away and back (with OS_CONN_MAX_AGE=0: an open SQLite file stays readable through
a rename, so only a new connection notices). While it is down /readyz answers 503 naming
the database and the API 503 DATABASE_UNAVAILABLE; once it is back both answer 200
without a restart. The server's own database is set up by one subprocess, so this test
leaves the suite's database alone.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from apps.ops import serve
from tests.ops.test_database import free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = {
    "manifest": {"id": "outage", "namespace": "outage"},
    "objects": [{"name": "outage_note", "fields": {"title": {"type": "text"}}}],
    "data": [{"object": "outage_note", "externalId": "title", "records": [{"title": "kept"}]}],
}
SETUP = """
import io, sys, django
django.setup()
from django.core.management import call_command
quiet = io.StringIO()
call_command("migrate", verbosity=0)
call_command("load_artifact", sys.argv[1], project="outage", hosts=["outage.test"],
             approve=True, stdout=quiet)
call_command("create_user", "ops@outage.test", password="correct-horse-battery",
             project="outage", superuser=True, stdout=quiet)
out = io.StringIO()
call_command("create_api_key", "ops@outage.test", project="outage", stdout=out)
print(out.getvalue().strip().split()[-1])
"""


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of our own, on a free port."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries and not shutil.which("initdb"):
            pytest.skip("initdb not found: cannot start a private PostgreSQL cluster")
        self.bin = Path(binaries[-1]).parent if binaries else Path(shutil.which("initdb")).parent
        self.root = Path(tempfile.mkdtemp(prefix="objectos-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self.run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "--auth=trust", "-N")
        self.start()
        subprocess.run(
            [
                self.bin / "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "objectos_ops_outage",
            ],
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/objectos_ops_outage"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def pg_ctl(self, *args: str) -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-w", *args)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self.pg_ctl("-o", options, "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.pg_ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


class MovableSqlite:
    """A SQLite database whose directory can be moved away and back."""

    def __init__(self, root: Path) -> None:
        self.home, self.away = root / "db", root / "db.away"
        self.home.mkdir()
        self.url = f"sqlite:///{self.home / 'objectos.sqlite3'}"

    def stop(self) -> None:
        self.home.rename(self.away)

    def start(self) -> None:
        self.away.rename(self.home)

    def remove(self) -> None:
        pass


@pytest.fixture
def database(tmp_path):
    db = PrivatePostgres() if connection.vendor == "postgresql" else MovableSqlite(tmp_path)
    yield db
    db.remove()


@pytest.fixture
def server(database, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "OS_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "objectos_site.settings",
        "OS_HOST_CACHE_TTL": "0.2",
        "OS_AUTH_CACHE_TTL": "0.2",
        "OS_DB_CONNECT_TIMEOUT": "2",
        "OS_LOG_FORMAT": "json",
        "OS_ACCESS_LOG": "1",
    }
    if connection.vendor != "postgresql":
        env["OS_CONN_MAX_AGE"] = "0"
    artifact = tmp_path / "outage.json"
    artifact.write_text(json.dumps(ARTIFACT))
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, str(artifact)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    key = setup.stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(tmp_path / "server.log", "w+b")
    process = subprocess.Popen(
        serve.command(port, threads=2),
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(log.read().decode())
            time.sleep(0.1)
    yield port, key, log
    process.terminate()
    process.wait(10)
    log.close()


def call(port: int, path: str, key: str = "", request_id: str = "") -> tuple[int, dict]:
    headers = {"Host": "outage.test"}
    if key:
        headers["X-API-Key"] = key
    if request_id:
        headers["X-Request-Id"] = request_id
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def until(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


NOTES = "/api/v1/data/outage_note"
UNAVAILABLE = {
    "error": "the database is unavailable; try again shortly",
    "code": "DATABASE_UNAVAILABLE",
}


def test_database_outage_and_recovery(database, server):
    port, key, log = server
    status, body = call(port, "/readyz")
    assert (status, body["status"]) == (200, "ready"), body
    status, body = call(port, NOTES, key)
    assert (status, [r["title"] for r in body["records"]]) == (200, ["kept"])

    database.stop()
    status, body = call(port, "/readyz")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {
        "status": "failed",
        "reason": "database unreachable (OperationalError)",
    }
    assert body["checks"]["kernels"]["status"] == "skipped"
    time.sleep(0.3)  # past the host and credential caches: every layer meets the outage
    for _ in range(3):  # each gunicorn thread's connection, whatever it last saw
        assert call(port, NOTES, key, request_id="outage-1") == (503, UNAVAILABLE)
    assert call(port, "/healthz") == (200, {"status": "ok"})

    database.start()
    assert until(lambda: call(port, "/readyz")[0] == 200), call(port, "/readyz")
    status, body = until(lambda: (r := call(port, NOTES, key))[0] == 200 and r) or (0, {})
    assert [r["title"] for r in body["records"]] == ["kept"]

    # the request log line of an answer during the outage, as JSON on the server's stderr
    log.seek(0)
    lines = [json.loads(line) for line in log.read().decode().splitlines() if line.startswith("{")]
    outage = [
        line
        for line in lines
        if line.get("logger") == "objectos.request" and line.get("request_id") == "outage-1"
    ]
    assert len(outage) == 3
    assert {(line["status"], line["path"], line["method"]) for line in outage} == {
        (503, NOTES, "GET")
    }
