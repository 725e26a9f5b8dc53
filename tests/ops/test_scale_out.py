"""The multi-node shape (README "Scale-out"): two gunicorn web processes and two django-q2
clusters (`manage.py qcluster`) on one PostgreSQL database and one Redis broker, each
process with its own data dir. A version published by this process is served by both web
processes, each building its own kernel; jobs spread over both workers; what one web
process writes the other reads. Needs PostgreSQL and Redis on this machine."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from apps.ops import serve
from tests import factories
from tests.schema.test_live_reload import call_command_output, database_url, free_port

REPO = Path(__file__).resolve().parents[2]
QUEUE_URL = "redis://127.0.0.1:6379/7"  # a dedicated db: only this one is flushed
HOST = "scale.test"


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.from_url(QUEUE_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="scale-out needs PostgreSQL (DATABASE_URL=postgres://...): several processes "
        "share one database",
    ),
    pytest.mark.skipif(
        connection.vendor == "postgresql" and not redis_reachable(),
        reason=f"scale-out needs Redis at {QUEUE_URL} (unreachable)",
    ),
    pytest.mark.django_db(transaction=True),
]

V1 = {
    "manifest": {"id": "scale.test", "namespace": "scale", "version": "1.0.0"},
    "objects": [{"name": "scale_note", "fields": {"title": {"type": "text", "required": True}}}],
    "data": [{"object": "scale_note", "externalId": "title", "records": [{"title": "hello"}]}],
}


@dataclass
class Node:
    name: str
    process: subprocess.Popen
    log: Path
    port: int | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def flush_queue_db() -> None:
    import redis

    redis.from_url(QUEUE_URL).flushdb()


def cluster_name() -> str:
    from django_q.conf import Conf

    return Conf.PREFIX


def start(name: str, command: list[str], tmp: Path, port: int | None = None) -> Node:
    data_dir = tmp / name
    data_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OS_ARTIFACT_FILE", "OS_CLOUD_URL", "OS_CLOUD_API_KEY", "PORT"}
    }
    env.update(
        DATABASE_URL=database_url(),  # the test database
        OS_QUEUE_URL=QUEUE_URL,
        # every node: the same cluster name (one queue) and the same secret (django-q2
        # signs task payloads with it; sessions and secret fields need it too)
        Q_CLUSTER_NAME=cluster_name(),
        OS_AUTH_SECRET=settings.SECRET_KEY,
        OS_DATA_DIR=str(data_dir),
        OS_HOST_CACHE_TTL="0.2",
        OS_WORKERS="1",
    )
    log = data_dir / "output.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers are killed with it
        )
    return Node(name, process, log, port)


def stop(node: Node) -> None:
    if node.process.poll() is None:
        node.process.terminate()
        try:
            node.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
    try:  # qcluster may hang on SIGTERM, and its children must go too
        os.killpg(node.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    node.process.wait(5)


def wait_until(predicate, seconds: float, what: str, nodes: list[Node]):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        for node in nodes:
            if node.process.poll() is not None:
                pytest.fail(f"{node.name} exited:\n{node.output()}")
        time.sleep(0.1)
    logs = "\n".join(f"--- {node.name}\n{node.output()}" for node in nodes)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def healthy(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
        return True
    except OSError:
        return False


def clusters_up() -> int:
    import redis

    return len(redis.from_url(QUEUE_URL).keys(f"django_q:{cluster_name()}:cluster:*"))


@pytest.fixture(scope="module")
def nodes(django_db_setup, tmp_path_factory):
    """web-a, web-b (gunicorn, one worker each) and worker-a, worker-b (qcluster)."""
    tmp = tmp_path_factory.mktemp("scale")
    flush_queue_db()
    started: list[Node] = []
    try:
        for name in ("web-a", "web-b"):
            port = free_port()
            started.append(start(name, serve.command(port), tmp, port))
        for name in ("worker-a", "worker-b"):
            started.append(start(name, [sys.executable, "manage.py", "qcluster"], tmp))
        webs = [node for node in started if node.port]
        wait_until(lambda: all(healthy(n.port) for n in webs), 30, "web processes", started)
        wait_until(lambda: clusters_up() == 2, 30, "two django-q2 clusters", started)
        yield {node.name: node for node in started}
    finally:
        for node in started:
            stop(node)
        flush_queue_db()


def call(port: int, path: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Host": HOST, "X-API-Key": key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")


def metrics(port: int) -> dict[tuple[str, str], float]:
    """{(name, labels): value} of one /metrics scrape (loopback: no token needed)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        match = METRIC.match(line)
        if match and not line.startswith("#"):
            name, labels, value = match.groups()
            samples[(name, labels or "")] = float(value)
    return samples


def kernel_builds(port: int) -> tuple[float, set[str]]:
    """Kernels this process built (cache misses) and the versions it holds."""
    samples = metrics(port)
    versions = {labels for name, labels in samples if name == "objectos_kernel_last_build_seconds"}
    return samples[("objectos_kernel_cache_misses_total", "")], versions


def test_published_version_served_by_every_web_process(nodes, tmp_path):
    web_a, web_b = nodes["web-a"].port, nodes["web-b"].port
    project = factories.publish_artifact("scale", copy.deepcopy(V1), hosts=[HOST])
    factories.make_user("ops@scale.test", project, superuser=True)
    key = call_command_output("create_api_key", "ops@scale.test", "--project", "scale")
    v1 = 'project="scale",version="1"'
    v2 = 'project="scale",version="2"'

    builds = {}
    for port in (web_a, web_b):
        status, body = call(port, "/api/v1/data/scale_note", key)
        assert status == 200 and [r["title"] for r in body["records"]] == ["hello"]
        builds[port], versions = kernel_builds(port)
        assert v1 in versions  # each process built its own kernel of version 1

    # what one process writes (and its audit) the other reads: the database is the truth
    status, body = call(web_a, "/api/v1/data/scale_note", key, {"title": "from a"})
    assert status in (200, 201), body
    status, body = call(web_b, f"/api/v1/data/scale_note/{body['id']}", key)
    assert status == 200 and body["record"]["title"] == "from a"

    # a new version published here (another process) reaches both within OS_HOST_CACHE_TTL
    v2_raw = copy.deepcopy(V1)
    v2_raw["objects"][0]["fields"]["priority"] = {"type": "number"}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(v2_raw))
    call_command("load_artifact", str(path), "--approve", stdout=open(os.devnull, "w"))
    published = time.monotonic()
    for port in (web_a, web_b):
        status, body = wait_until(
            lambda port=port: (lambda r: r if "priority" in r[1]["records"][0] else None)(
                call(port, "/api/v1/data/scale_note?sort=title", key)
            ),
            5,
            f"version 2 on port {port}",
            list(nodes.values()),
        )
        assert status == 200 and body["records"][0]["priority"] is None
    assert time.monotonic() - published < 5

    # the kernel cache is per process: each built version 2 itself, once
    for port in (web_a, web_b):
        misses, versions = kernel_builds(port)
        assert misses == builds[port] + 1
        assert v2 in versions
        for _ in range(3):
            assert call(port, "/api/v1/data/scale_note", key)[0] == 200
        assert kernel_builds(port)[0] == misses  # warm: no more builds


def test_jobs_spread_over_both_workers(nodes):
    import redis
    from django_q.brokers.redis_broker import Redis
    from django_q.models import Task
    from django_q.tasks import async_task, result

    # this process's django-q2 settings may name another broker: address the nodes' Redis
    broker = Redis(list_key=cluster_name())
    broker.connection = redis.from_url(QUEUE_URL)
    ids = []
    for n in range(20):
        ids.append(async_task("apps.ops.tasks.whoami", n, broker=broker))
        time.sleep(0.02)  # jobs arrive over time, as from web requests

    done = wait_until(
        lambda: Task.objects.filter(id__in=ids).count() == 20 or None,
        20,
        "20 task results",
        list(nodes.values()),
    )
    assert done
    tasks = Task.objects.filter(id__in=ids)
    assert all(task.success for task in tasks), [t.result for t in tasks if not t.success]
    results = [result(task_id) for task_id in ids]
    assert sorted(r["n"] for r in results) == list(range(20))

    # each result's pid is a worker process of one of the two qcluster process groups
    groups = {os.getpgid(r["pid"]) for r in results}
    assert groups == {nodes["worker-a"].process.pid, nodes["worker-b"].process.pid}
    assert len({r["pid"] for r in results}) == 2
    assert broker.queue_size() == 0
