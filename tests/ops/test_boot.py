"""Boot modes: file-backed (publish additive, hold destructive, refuse invalid), the watcher
thread, the control-plane routes, and cloud-connected end to end against a real gunicorn
control plane that then goes away."""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from apps.audit.models import AuditEvent
from apps.ops import boot, health, serve
from apps.ops.cloud import RemoteProject
from apps.ops.exceptions import ControlPlaneError
from apps.ops.models import ControlKey
from apps.projects.models import AppVersion, Project
from tests import factories
from tests.schema.test_live_reload import free_port

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

V1 = {
    "manifest": {"id": "boot.test", "namespace": "bootfile", "version": "1.0.0"},
    "objects": [{"name": "bootfile_note", "fields": {"title": {"type": "text", "required": True}}}],
    "data": [{"object": "bootfile_note", "externalId": "title", "records": [{"title": "hello"}]}],
}


def additive(artifact: dict) -> dict:
    """V1 plus a field and an object."""
    changed = copy.deepcopy(artifact)
    changed["objects"][0]["fields"]["priority"] = {"type": "number"}
    changed["objects"].append({"name": "bootfile_tag", "fields": {"name": {"type": "text"}}})
    return changed


def renamed(artifact: dict, namespace: str) -> dict:
    """The same artifact under another namespace (object names follow it)."""
    text = json.dumps(artifact).replace("bootfile", namespace)
    return json.loads(text)


def out() -> StringIO:
    return StringIO()


def versions(name: str) -> list[tuple[int, str]]:
    return list(
        AppVersion.objects.filter(project__name=name)
        .order_by("number")
        .values_list("number", "status")
    )


def published_number(name: str) -> int:
    return (
        Project.objects.select_related("published_version").get(name=name).published_version.number
    )


def columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return sorted(c.name for c in connection.introspection.get_table_description(cursor, table))


def audit_actions(chain: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("action", flat=True)
    )


def records(project_name: str, object_name: str) -> list[dict]:
    project = Project.objects.get(name=project_name)
    user = factories.make_user(f"ops@{project_name}.test", project, superuser=True)
    response = factories.api_client(project, user).get(f"/api/v1/data/{object_name}")
    assert response.status_code == 200, response.content
    return response.json()["records"]


@pytest.fixture
def readyz(monkeypatch):
    """GET /readyz without leaving this process's "kernel known buildable" marks behind."""
    monkeypatch.setattr(health, "_buildable", set())
    return lambda: Client(HTTP_HOST="nowhere.test").get("/readyz")


@pytest.fixture
def fresh_boot():
    boot.reset()
    yield
    boot.reset()


class ArtifactFile:
    """The watched file; each write moves its mtime forward so a poll always sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mtime_ns = time.time_ns()

    def write(self, content: dict | str) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        self.path.write_text(text)
        self.mtime_ns += 1_000_000_000
        os.utime(self.path, ns=(self.mtime_ns, self.mtime_ns))


@pytest.fixture
def artifact_file(settings, tmp_path, fresh_boot):
    settings.OS_ARTIFACT_FILE = str(tmp_path / "objectstack.json")
    settings.OS_PROJECT = "bootfile"
    settings.OS_HOSTS = ["bootfile.test"]
    return ArtifactFile(tmp_path / "objectstack.json")


# --- file-backed ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_file_mode_publishes_additive_holds_destructive_and_refuses_invalid(artifact_file, caplog):
    artifact_file.write(V1)
    output = out()
    call_command("boot", stdout=output)
    assert f"file-backed: {artifact_file.path}: published" in output.getvalue()
    assert versions("bootfile") == [(1, "published")]
    assert columns("bootfile__bootfile_note") == sorted(
        ["id", "owner_id", "created_by", "created_at", "updated_by", "updated_at", "title"]
    )
    assert [r["title"] for r in records("bootfile", "bootfile_note")] == ["hello"]
    assert Project.objects.get(name="bootfile").domains.get().hostname == "bootfile.test"

    # additive: published automatically, approved as the system
    artifact_file.write(additive(V1))
    status = boot.boot_once()
    assert versions("bootfile") == [(1, "published"), (2, "published")]
    assert published_number("bootfile") == 2
    assert "priority" in columns("bootfile__bootfile_note")
    event = AuditEvent.objects.filter(chain="bootfile", action="artifact.auto_approve").last()
    assert (event.actor, event.details) == (
        "system",
        {"version": 2, "source": f"file:{artifact_file.path}", "risk": "additive"},
    )
    assert status["state"] == "published" and status["published_version"] == 2

    # destructive: stays pending, version 2 is still served, the table is untouched
    before = columns("bootfile__bootfile_note")
    destructive = additive(V1)
    del destructive["objects"][0]["fields"]["title"]
    destructive["data"] = []
    artifact_file.write(destructive)
    status = boot.boot_once()
    assert versions("bootfile") == [(1, "published"), (2, "published"), (3, "pending")]
    assert published_number("bootfile") == 2
    assert columns("bootfile__bootfile_note") == before
    assert records("bootfile", "bootfile_note")[0]["title"] == "hello"
    assert status == {
        "mode": "file",
        "file": "objectstack.json",
        "project": "bootfile",
        "state": "pending",
        "message": (
            "version 3 is destructive: it waits for approval (python manage.py "
            "approve_artifact bootfile 3 --allow-destructive); the published version is "
            "still served"
        ),
        "file_sha256": status["file_sha256"],
        "published_version": 2,
        "pending_version": 3,
        "risk": "destructive",
        "checked_at": status["checked_at"],
        "changed_at": status["changed_at"],
        "watching": False,
    }

    # invalid: nothing changes, one log line and one audit event
    events_before = audit_actions("bootfile")
    artifact_file.write('{"manifest": {"id": "boot.test"}, "objects": [')
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="objectos.boot"):
        status = boot.boot_once()
    assert versions("bootfile") == [(1, "published"), (2, "published"), (3, "pending")]
    assert published_number("bootfile") == 2
    assert columns("bootfile__bootfile_note") == before
    assert audit_actions("bootfile") == [*events_before, "artifact.invalid"]
    invalid = AuditEvent.objects.filter(chain="bootfile").last()
    assert invalid.actor == "system"
    assert invalid.details["source"] == f"file:{artifact_file.path}"
    assert invalid.details["problems"] == 1 and invalid.details["issues"][0].startswith("$")
    logged = [r.getMessage() for r in caplog.records if r.name == "objectos.boot"]
    assert len(logged) == 1 and logged[0].startswith(
        f"boot: artifact for bootfile from file:{artifact_file.path} is invalid "
        "(1 problems, nothing changed); first: $"
    )
    assert status["state"] == "invalid" and status["published_version"] == 2

    # a restarted process sees the same invalid file: reported in its status, not audited twice
    boot.reset()
    assert boot.boot_once()["state"] == "invalid"
    assert audit_actions("bootfile") == [*events_before, "artifact.invalid"]

    # the pending version is approved by a person, as usual
    call_command("approve_artifact", "bootfile", "3", "--allow-destructive", stdout=out())
    assert "title" not in columns("bootfile__bootfile_note")


@pytest.mark.django_db(transaction=True)
def test_file_mode_restart_on_a_pending_version_adds_no_version(artifact_file):
    artifact_file.write(V1)
    boot.boot_once()
    destructive = copy.deepcopy(V1)
    destructive["objects"][0]["fields"] = {"body": {"type": "text"}}
    destructive["data"] = []
    artifact_file.write(destructive)
    assert boot.boot_once()["state"] == "pending"
    boot.reset()
    assert boot.boot_once()["pending_version"] == 2
    assert versions("bootfile") == [(1, "published"), (2, "pending")]
    assert audit_actions("bootfile").count("artifact.load") == 2


@pytest.mark.django_db(transaction=True)
def test_watcher_thread_publishes_changes_of_the_file(artifact_file, settings, readyz):
    settings.OS_ARTIFACT_POLL_SECONDS = 0.05
    artifact_file.write(V1)
    assert boot.start_watcher() is True
    assert boot.start_watcher() is False  # once per process
    wait_until(lambda: versions("bootfile") == [(1, "published")])
    artifact_file.write(additive(V1))
    wait_until(lambda: versions("bootfile") == [(1, "published"), (2, "published")])
    wait_until(lambda: boot.mode_status()["state"] == "published")
    assert boot.mode_status()["watching"] is True
    response = readyz()
    assert response.status_code == 200
    assert response.json()["checks"]["boot"]["mode"] == "file"
    boot.stop_watcher()
    assert boot.mode_status()["watching"] is False


def test_standalone_starts_no_watcher(fresh_boot):
    assert boot.start_watcher() is False
    assert boot.mode_status() == {"mode": "standalone"}


@pytest.mark.django_db
def test_contradicting_variables_refuse_to_boot(settings, tmp_path, fresh_boot, readyz):
    settings.OS_ARTIFACT_FILE = str(tmp_path / "objectstack.json")
    settings.OS_CLOUD_URL = "http://127.0.0.1:9"
    settings.OS_CLOUD_API_KEY = "oscp_x"
    with pytest.raises(CommandError, match="set OS_ARTIFACT_FILE or OS_CLOUD_URL, not both"):
        call_command("boot", stdout=out())
    assert boot.start_watcher() is False
    response = readyz()
    assert response.status_code == 503
    assert response.json()["checks"]["boot"] == {
        "status": "failed",
        "reason": "boot mode misconfigured: set OS_ARTIFACT_FILE or OS_CLOUD_URL, not both",
        "mode": "misconfigured",
        "error": "set OS_ARTIFACT_FILE or OS_CLOUD_URL, not both",
    }


def wait_until(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- the control plane's routes ---------------------------------------------------------


def create_key(*args: str) -> str:
    output = out()
    call_command("create_control_key", *args, stdout=output)
    return output.getvalue().strip()


@pytest.mark.django_db
def test_control_routes_need_a_control_key(demo):
    key = create_key("peer")
    assert key.startswith("oscp_")
    assert ControlKey.objects.get(name="peer").key_hash != key  # stored hashed
    client = Client(HTTP_HOST="nowhere.test")  # no project needed
    refusal = {"error": "a valid control-plane key is required", "code": "UNAUTHENTICATED"}
    version_path = f"/api/v1/control/projects/demo/versions/{demo.published_version.number}"
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer oscp_00000000_wrong"},
        {"HTTP_AUTHORIZATION": f"Basic {key}"},
        {"HTTP_X_API_KEY": key},
    ):
        for path in ("/api/v1/control/projects", version_path):
            response = client.get(path, **headers)
            assert (response.status_code, response.json()) == (401, refusal), (path, headers)
            assert response["WWW-Authenticate"] == 'Bearer realm="objectos-control"'

    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.get("/api/v1/control/projects", **auth)
    assert response.status_code == 200
    listing = {p["name"]: p for p in response.json()}
    assert listing["demo"] == {
        "name": "demo",
        "hosts": ["demo.test"],
        "version": demo.published_version.number,
        "sha256": demo.published_version.sha256,
    }
    response = client.get(version_path, **auth)
    assert response.status_code == 200
    assert response.content.decode() == demo.published_version.source
    assert response["X-Artifact-Sha256"] == demo.published_version.sha256
    response = client.get("/api/v1/control/projects/demo/versions/999", **auth)
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")
    assert client.post("/api/v1/control/projects", **auth).status_code == 405

    scoped = create_key("other", "--project", "someone_else")
    response = client.get("/api/v1/control/projects", HTTP_AUTHORIZATION=f"Bearer {scoped}")
    assert (response.status_code, response.json()) == (200, [])
    response = client.get(version_path, HTTP_AUTHORIZATION=f"Bearer {scoped}")
    assert response.status_code == 404

    call_command("create_control_key", "peer", "--revoke", stderr=out())
    assert client.get("/api/v1/control/projects", **auth).status_code == 401


# --- cloud-connected, end to end --------------------------------------------------------


def instance_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OS_ARTIFACT", "OS_CLOUD", "OS_PROJECT", "OS_HOSTS", "OS_CACHE"))
    }
    return {**env, "DATABASE_URL": "", "OS_DATA_DIR": str(data_dir), **extra}


def manage(data_dir: Path, *args: str, **extra: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=instance_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each separate instance."""
    folder = tmp_path_factory.mktemp("template")
    manage(folder, "migrate", "--noinput")
    return folder / "objectos.sqlite3"


def new_instance(folder: Path, template: Path) -> Path:
    folder.mkdir()
    shutil.copy(template, folder / "objectos.sqlite3")
    return folder


class ControlPlaneInstance:
    """Instance A: its own SQLite, serving a published project with gunicorn on loopback."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def publish(self, artifact: dict, *flags: str) -> None:
        path = self.folder / f"v{time.monotonic_ns()}.json"
        path.write_text(json.dumps(artifact))
        manage(self.folder, "load_artifact", str(path), "--project", "bootcloud",
               "--host", "bootcloud.test", "--approve", *flags)  # fmt: skip

    def start(self) -> None:
        self.process = subprocess.Popen(
            serve.command(self.port),
            cwd=REPO, env=instance_env(self.folder),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(self.process.stdout.read().decode())
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def control_plane(tmp_path, migrated_sqlite):
    instance = ControlPlaneInstance(new_instance(tmp_path / "a", migrated_sqlite))
    yield instance
    instance.stop()


@pytest.mark.django_db(transaction=True)
def test_cloud_mode_fetches_caches_and_survives_the_control_plane(
    control_plane, migrated_sqlite, settings, tmp_path, fresh_boot, readyz
):
    v1 = renamed(V1, "bootcloud")
    control_plane.publish(v1)
    key = manage(control_plane.folder, "create_control_key", "instance-b").strip()
    control_plane.start()

    cache = tmp_path / "cache"
    settings.OS_CLOUD_URL = control_plane.url
    settings.OS_CLOUD_API_KEY = key
    settings.OS_CACHE_DIR = cache

    # instance B (this process, its own database) fetches, caches and publishes version 1
    output = out()
    call_command("boot", stdout=output)
    assert output.getvalue().splitlines()[:2] == [
        f"cloud-connected: {control_plane.url}: control plane reachable; serving from the control plane",
        "  bootcloud: upstream version 1, local version 1 (published)",
    ]
    assert versions("bootcloud") == [(1, "published")]
    upstream = sqlite_rows(control_plane.folder, "SELECT sha256 FROM os_projects_appversion")
    assert Project.objects.get(name="bootcloud").published_version.sha256 == upstream[0][0]
    assert json.loads((cache / "control-plane" / "index.json").read_text())["projects"] == [
        {"name": "bootcloud", "hosts": ["bootcloud.test"], "version": 1, "sha256": upstream[0][0]}
    ]
    assert (cache / "control-plane" / "bootcloud" / "1.json").is_file()
    assert [r["title"] for r in records("bootcloud", "bootcloud_note")] == ["hello"]

    # an additive version upstream, then a destructive one (approved upstream: applied here)
    control_plane.publish(renamed(additive(V1), "bootcloud"))
    boot.boot_once()
    assert versions("bootcloud") == [(1, "published"), (2, "published")]
    assert "priority" in columns("bootcloud__bootcloud_note")
    control_plane.publish(v1, "--allow-destructive")
    status = boot.boot_once()
    assert versions("bootcloud") == [(1, "published"), (2, "published"), (3, "published")]
    assert "priority" not in columns("bootcloud__bootcloud_note")
    assert status["projects"] == {
        "bootcloud": {"upstream_version": 3, "local_version": 3, "state": "published"}
    }
    event = AuditEvent.objects.filter(chain="bootcloud", action="artifact.auto_approve").last()
    assert event.details == {
        "version": 3,
        "source": "cloud:bootcloud@3",
        "risk": "destructive",
        "upstream_version": 3,
    }
    assert boot.boot_once()["projects"]["bootcloud"]["state"] == "unchanged"

    # a wrong key: refused, served from the cache
    settings.OS_CLOUD_API_KEY = "oscp_00000000_wrong"
    boot.reset()
    status = boot.boot_once()
    assert (status["control_plane"], status["serving_from"]) == ("refused", "cache")
    assert status["error"] == "the control plane refused the key (401)"
    settings.OS_CLOUD_API_KEY = key

    # the control plane goes away; a restarted boot step keeps serving from the cache
    control_plane.stop()
    boot.reset()
    output = out()
    call_command("boot", stdout=output)
    assert output.getvalue().splitlines()[:2] == [
        f"cloud-connected: {control_plane.url}: control plane unreachable (connection failed: "
        "[Errno 111] Connection refused); serving from the cache",
        "  bootcloud: upstream version 3, local version 3 (unchanged)",
    ]
    assert versions("bootcloud") == [(1, "published"), (2, "published"), (3, "published")]
    assert [r["title"] for r in records("bootcloud", "bootcloud_note")] == ["hello"]
    response = readyz()
    assert response.status_code == 200
    details = response.json()["checks"]["boot"]
    assert (details["status"], details["mode"]) == ("ok", "cloud")
    assert (details["control_plane"], details["serving_from"]) == ("unreachable", "cache")
    assert (
        control_plane.url not in response.content.decode() and key not in response.content.decode()
    )

    # a brand-new instance with an empty database boots from the same cache alone
    fresh = new_instance(tmp_path / "b2", migrated_sqlite)
    printed = manage(fresh, "boot", OS_CLOUD_URL=control_plane.url,
                     OS_CLOUD_API_KEY=key, OS_CACHE_DIR=str(cache))  # fmt: skip
    assert "control plane unreachable" in printed and "serving from the cache" in printed
    assert "  bootcloud: upstream version 3, local version 1 (published)" in printed
    assert sqlite_rows(fresh, "SELECT number, status FROM os_projects_appversion") == [
        (1, "published")
    ]
    assert sqlite_rows(fresh, "SELECT title FROM bootcloud__bootcloud_note") == [("hello",)]


def sqlite_rows(folder: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(folder / "objectos.sqlite3") as database:
        return database.execute(sql).fetchall()


def test_cloud_mode_without_control_plane_or_cache_serves_nothing_new(
    settings, tmp_path, fresh_boot
):
    settings.OS_CLOUD_URL = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    settings.OS_CLOUD_API_KEY = "oscp_00000000_key"
    settings.OS_CACHE_DIR = tmp_path / "cache"
    status = boot.boot_once()
    assert (status["mode"], status["control_plane"], status["serving_from"]) == (
        "cloud",
        "unreachable",
        "nothing",
    )
    assert status["error"] == "connection failed: [Errno 111] Connection refused"
    assert status["projects"] == {}


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "../etc", "hosts": [], "version": 1, "sha256": "0" * 64},
        {"name": "crm", "hosts": "crm.test", "version": 1, "sha256": "0" * 64},
        {"name": "crm", "hosts": [], "version": 0, "sha256": "0" * 64},
        {"name": "crm", "hosts": [], "version": True, "sha256": "0" * 64},
        {"name": "crm", "hosts": [], "version": 1, "sha256": "../../x"},
        ["crm"],
    ],
)
def test_a_malformed_listing_is_refused(entry):
    with pytest.raises(ControlPlaneError, match="malformed project listing"):
        RemoteProject.parse(entry)
