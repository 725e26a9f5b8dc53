"""The three servers: how each is seeded, started (granian, one worker process, as
`bin/serve` starts the runtime: apps/ops/serve.py), timed and stopped."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.ops import serve

from bench.runner.seed import ROOT

VENV_BIN = ROOT / ".venv" / "bin"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class ServerSpec:
    name: str
    label: str
    wsgi: str
    settings: str
    chdir: Path
    data_env: str  # the environment variable naming the data directory


SERVERS = {
    "runtime": ServerSpec("runtime", "ObjectOS runtime", "objectos_site.wsgi:application",
                          "objectos_site.settings", ROOT, "OS_DATA_DIR"),
    "drf": ServerSpec("drf", "(a) idiomatic DRF", "drf_app.wsgi:application",
                      "drf_app.settings", ROOT / "bench" / "baselines", "BENCH_DATA_DIR"),
    "plain": ServerSpec("plain", "(b) hand-tuned Django", "plain_app.wsgi:application",
                        "plain_app.settings", ROOT / "bench" / "baselines", "BENCH_DATA_DIR"),
}


@dataclass
class Instance:
    """One prepared server: its data dir, database, environment and (once up) process."""

    spec: ServerSpec
    data_dir: Path
    env: dict[str, str]
    database: str | None = None
    port: int = 0
    process: subprocess.Popen | None = None
    seed: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_admin(statement: str) -> None:
    """Run one statement on the server's `postgres` database (CREATE or DROP DATABASE)."""
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def prepare(spec: ServerSpec, db: str) -> Instance:
    """A fresh data dir (and a fresh PostgreSQL database with --db postgres)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{spec.name}-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OS_DATA_DIR"}}
    env.update({spec.data_env: str(data_dir), "DJANGO_SETTINGS_MODULE": spec.settings,
                "PYTHONPATH": str(ROOT)})
    instance = Instance(spec, data_dir, env)
    if db == "postgres":
        instance.database = f"bench_{spec.name}_{os.getpid()}_{int(time.time())}"
        postgres_admin(f'CREATE DATABASE "{instance.database}"')
        env["DATABASE_URL"] = f"{POSTGRES_URL}/{instance.database}"
    return instance


def seed(instance: Instance) -> dict[str, Any]:
    kind = "runtime" if instance.spec.name == "runtime" else "baseline"
    done = subprocess.run([str(VENV_BIN / "python"), "-m", "bench.runner.seed", kind],
                          cwd=ROOT, env=instance.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"seeding {instance.spec.name} failed:\n{done.stderr[-3000:]}")
    instance.seed = json.loads(done.stdout.strip().splitlines()[-1])
    return instance.seed


def request(instance: Instance, method: str, path: str, token: str | None = None,
            body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """One HTTP request; returns (status, parsed JSON body or raw text)."""
    connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode(errors="replace")


def start(instance: Instance, threads: int, probe_path: str, token: str,
          timeout: float = 60) -> float:
    """Start the server; return seconds from process start to the first 200 on probe_path."""
    instance.port = free_port()
    instance.log_path = instance.data_dir / "server.log"
    command = serve.command(instance.port, threads=threads, application=instance.spec.wsgi,
                            working_dir=str(instance.spec.chdir))
    log = instance.log_path.open("w")
    started = time.perf_counter()
    instance.process = subprocess.Popen(command, cwd=instance.spec.chdir, env=instance.env,
                                        stdout=log, stderr=subprocess.STDOUT)
    last: Any = None
    while time.perf_counter() - started < timeout:
        if instance.process.poll() is not None:
            break
        try:
            status, last = request(instance, "GET", probe_path, token, timeout=5)
            if status == 200:
                return time.perf_counter() - started
            last = (status, last)
            if status != 503:
                break  # up but answering an error: waiting will not help
        except OSError as error:
            last = error
        time.sleep(0.01)
    stop(instance)
    raise RuntimeError(f"{instance.spec.name} did not answer 200 on GET {probe_path} "
                       f"(last: {str(last)[:300]}); log:\n{tail(instance.log_path)}")


def tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rss(instance: Instance) -> dict[str, int]:
    """VmRSS in KiB of the server's main process, its worker(s) and both together."""
    assert instance.process is not None
    master = instance.process.pid
    workers = sum(_rss_kib(pid) for pid in _children(master))
    master_kib = _rss_kib(master)
    return {"master_kib": master_kib, "workers_kib": workers, "total_kib": master_kib + workers}


def stop(instance: Instance) -> None:
    process = instance.process
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cleanup(instance: Instance, keep: bool = False) -> None:
    stop(instance)
    if instance.database:
        postgres_admin(f'DROP DATABASE IF EXISTS "{instance.database}" WITH (FORCE)')
    if not keep:
        shutil.rmtree(instance.data_dir, ignore_errors=True)
