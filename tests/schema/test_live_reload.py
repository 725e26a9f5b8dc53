"""A running server (a real gunicorn process) serves new artifact versions without restart."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.ops import serve
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]

V1 = {
    "manifest": {"id": "live.test", "namespace": "live", "version": "1.0.0"},
    "objects": [{"name": "live_note", "fields": {"title": {"type": "text", "required": True}}}],
    "data": [{"object": "live_note", "externalId": "title", "records": [{"title": "hello"}]}],
}


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings.get('PORT') or 5432}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "OS_DATA_DIR": str(tmp_path),
        "OS_HOST_CACHE_TTL": "0.2",
    }
    process = subprocess.Popen(
        serve.command(port),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(process.stdout.read().decode())
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(10)


def get(port: int, path: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": "live.test", "X-API-Key": key}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(port: int, path: str, key: str, predicate, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while True:
        status, body = get(port, path, key)
        if predicate(status, body) or time.monotonic() > deadline:
            return status, body
        time.sleep(0.1)


def load(tmp_path, artifact, *flags):
    path = tmp_path / f"v{time.monotonic_ns()}.json"
    path.write_text(json.dumps(artifact))
    call_command("load_artifact", str(path), "--approve", *flags, stdout=open(os.devnull, "w"))


def test_new_version_served_without_restart(tmp_path, server):
    project = factories.publish_artifact("live", copy.deepcopy(V1), hosts=["live.test"])
    factories.make_user("ops@live.test", project, superuser=True)
    key = call_command_output("create_api_key", "ops@live.test", "--project", "live")

    status, body = get(server, "/api/v1/data/live_note", key)
    assert status == 200
    assert [r["title"] for r in body["records"]] == ["hello"]
    assert "priority" not in body["records"][0]

    v2 = copy.deepcopy(V1)
    v2["objects"][0]["fields"]["priority"] = {"type": "number"}
    v2["objects"].append({"name": "live_tag", "fields": {"name": {"type": "text"}}})
    load(tmp_path, v2)
    status, body = wait_for(
        server, "/api/v1/data/live_note", key, lambda s, b: "priority" in b["records"][0]
    )
    assert status == 200 and body["records"][0]["priority"] is None
    status, body = get(server, "/api/v1/data/live_tag", key)
    assert (status, body["total"]) == (200, 0)

    v3 = copy.deepcopy(v2)
    del v3["objects"][0]["fields"]["title"]
    v3["data"] = []
    with pytest.raises(CommandError):
        load(tmp_path, v3)
    time.sleep(0.5)
    status, body = get(server, "/api/v1/data/live_note", key)
    assert status == 200 and body["records"][0]["title"] == "hello"

    call_command(
        "rollback_artifact", "live", "1", "--allow-destructive", stdout=open(os.devnull, "w")
    )
    status, body = wait_for(server, "/api/v1/data/live_tag", key, lambda s, b: s == 404)
    assert status == 404 and body["code"] == "OBJECT_NOT_FOUND"
    status, body = get(server, "/api/v1/data/live_note", key)
    assert "priority" not in body["records"][0]


def call_command_output(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()
