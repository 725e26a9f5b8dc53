"""CPU per request in process, and where it goes: `python -m bench.runner.profile_writes`.

Seeds each selected server's data dir exactly as `bench/run` does (bench/runner/seed.py,
its own process), then, per server in a child process under that server's settings,
drives the whole WSGI stack (middleware, auth, views, database) with Django's test
Client for every (request, role) and reports CPU microseconds per request
(`time.process_time`) and wall microseconds per request. No sockets and no wrk: on a
busy machine CPU time per request is a steadier number than requests/s, and it is
what the write path spends. `--profile` adds a cProfile listing for the runtime.

    python -m bench.runner.profile_writes                       # runtime vs plain, writes
    python -m bench.runner.profile_writes --requests list,get,create,update --rounds 3
    python -m bench.runner.profile_writes --servers runtime --profile --top 40
    python -m bench.runner.profile_writes --servers runtime --sql     # one request's SQL
    python -m bench.runner.profile_writes --data-dir DIR         # seeded dirs kept in DIR

Writes stay in the data dirs (creates add rows): compare list and get on fresh dirs.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.runner.seed import ROOT
from bench.runner.servers import POSTGRES_URL, postgres_admin

SETTINGS = {
    "runtime": "objectos_site.settings",
    "plain": "plain_app.settings",
    "drf": "drf_app.settings",
}
DATA_ENV = {"runtime": "OS_DATA_DIR", "plain": "BENCH_DATA_DIR", "drf": "BENCH_DATA_DIR"}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runner.profile_writes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--servers", default="runtime,plain")
    parser.add_argument("--requests", default="create,update")
    parser.add_argument("--roles", default="admin,plain")
    parser.add_argument("--count", type=int, default=1000, help="requests per (request, role)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate the servers this many times; the median is reported",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the runtime")
    parser.add_argument("--top", type=int, default=30, help="profile lines to print")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument(
        "--callees", default="", help="comma-separated function patterns whose callees to print"
    )
    parser.add_argument(
        "--callers", default="", help="comma-separated function patterns whose callers to print"
    )
    parser.add_argument("--sql", action="store_true", help="print the SQL of one request")
    parser.add_argument("--data-dir", help="keep the seeded data dirs here (reused when seeded)")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: a fresh PostgreSQL database per server (its name kept in the data dir)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _env(server: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OS_DATA_DIR"}}
    env.update(
        {
            DATA_ENV[server]: str(data_dir),
            "DJANGO_SETTINGS_MODULE": SETTINGS[server],
            "PYTHONPATH": str(ROOT),
        }
    )
    database = data_dir / "database.txt"
    if database.exists():
        env["DATABASE_URL"] = f"{POSTGRES_URL}/{database.read_text().strip()}"
    return env


def _create_database(server: str, data_dir: Path) -> None:
    """A fresh PostgreSQL database for `server`, named in `data_dir/database.txt`."""
    database = data_dir / "database.txt"
    if database.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    name = f"bench_profile_{server}_{os.getpid()}_{int(time.time())}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    database.write_text(name)


def _drop_database(data_dir: Path) -> None:
    database = data_dir / "database.txt"
    if database.exists():
        postgres_admin(f'DROP DATABASE IF EXISTS "{database.read_text().strip()}" WITH (FORCE)')


def _seed(server: str, data_dir: Path) -> None:
    if (data_dir / "seed.json").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"seeding {server} in {data_dir} ...", flush=True)
    kind = "runtime" if server == "runtime" else "baseline"
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner.seed", kind],
        cwd=ROOT,
        env=_env(server, data_dir),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"seeding {server} failed:\n{done.stderr[-3000:]}")
    (data_dir / "seed.json").write_text(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.child:
        return child(args)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    temp = args.data_dir is None
    base = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-profile-"))
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in servers}
    try:
        for server in servers:
            if args.db == "postgres":
                _create_database(server, base / server)
            _seed(server, base / server)
        for _ in range(args.rounds):
            for server in servers:
                done = subprocess.run(
                    [sys.executable, "-m", "bench.runner.profile_writes", "--child", server, *argv],
                    cwd=ROOT,
                    env=_env(server, base / server),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                if done.returncode:
                    raise SystemExit(f"{server} failed")
                lines = done.stdout.splitlines()
                marker = next(i for i, x in enumerate(lines) if x.startswith("RESULT "))
                print("\n".join(lines[:marker] + lines[marker + 1 :]), flush=True)
                results[server].append(json.loads(lines[marker][len("RESULT ") :]))
    finally:
        if temp:
            for server in servers:
                _drop_database(base / server)
            shutil.rmtree(base, ignore_errors=True)
    print(table(results, args))
    return 0


def table(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    """Median over rounds of CPU and wall microseconds per request, and CPU ratios."""
    servers = list(results)
    rows = list(results[servers[0]][0])
    head = f"{'request':14}" + "".join(f"{s + ' cpu us':>15}{'wall us':>9}" for s in servers)
    if "runtime" in servers and len(servers) > 1:
        head += "".join(f"{'runtime/' + s:>15}" for s in servers if s != "runtime")
    lines = [
        f"CPU and wall microseconds per request, median of {args.rounds} round(s) of "
        f"{args.count} requests (in process, Django test Client)"
        + (" [runtime profiled: not comparable]" if args.profile else ""),
        head,
    ]
    for row in rows:
        cells = {
            s: (
                statistics.median(r[row]["cpu_us"] for r in results[s]),
                statistics.median(r[row]["wall_us"] for r in results[s]),
            )
            for s in servers
        }
        line = f"{row:14}" + "".join(f"{cells[s][0]:15.0f}{cells[s][1]:9.0f}" for s in servers)
        if "runtime" in servers and len(servers) > 1:
            # CPU per request is the inverse of throughput: baseline cpu / runtime cpu.
            line += "".join(
                f"{cells[s][0] / cells['runtime'][0]:14.2f}x" for s in servers if s != "runtime"
            )
        lines.append(line)
    return "\n".join(lines)


def _requests(
    mode: str, role: str, count: int, ids: list[str], stored: dict[str, int | None]
) -> list[tuple[str, str, bytes]]:
    """(method, path, body) per request, as bench/wrk/workload.lua sends them, except that
    an update always changes the priority (`stored`: the row's priority now), as most do
    under wrk; the rows keep priorities of 1..5, so lists stay comparable."""
    base = "/api/v1/data/app_task"
    statuses = ("open", "in_progress", "done")
    out = []
    for n in range(1, count + 1):
        if mode == "create":
            amount = f', "amount": {n % 5000}.{n % 100:02d}' if role == "admin" else ""
            body = (
                f'{{"title": "wrk task {n}", "status": "{statuses[n % 3]}", '
                f'"priority": {n % 5 + 1}, "due_date": "2025-{n % 12 + 1:02d}-'
                f'{n % 28 + 1:02d}"{amount}}}'
            )
            out.append(("POST", base, body.encode()))
        elif mode == "update":
            row_id = ids[n % len(ids)]
            stored[row_id] = (stored.get(row_id) or 0) % 5 + 1
            out.append(("PATCH", f"{base}/{row_id}", f'{{"priority": {stored[row_id]}}}'.encode()))
        elif mode == "get":
            out.append(("GET", f"{base}/{ids[n % len(ids)]}", b""))
        else:
            out.append(("GET", f"{base}?status=open&sort=-priority&top=50", b""))
    return out


def child(args: argparse.Namespace) -> int:
    server = args.child
    sys.path.insert(0, str(ROOT))
    if server != "runtime":
        sys.path.insert(0, str(ROOT / "bench" / "baselines"))
    import django

    django.setup()
    import logging

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.runner.dataset import ADMIN_EMAIL, PLAIN_EMAIL, USERS, ids_by_owner

    if os.environ.get("BENCH_NO_ACCESS_LOG"):
        logging.getLogger("objectos.request").setLevel(logging.WARNING)
    if server == "runtime":  # what a runtime web process does when it starts
        from apps.ops.dbstats import refresh_statistics

        refresh_statistics()
    table_name = "app__app_task" if server == "runtime" else "common_task"
    seeded = json.loads((Path(os.environ[DATA_ENV[server]]) / "seed.json").read_text())
    owned = ids_by_owner()
    plain_index = next(i for i, (email, _) in enumerate(USERS) if email == PLAIN_EMAIL)
    ids = {"admin": [i for n in sorted(owned) for i in owned[n]], "plain": owned[plain_index]}
    tokens = {"admin": seeded["tokens"][ADMIN_EMAIL], "plain": seeded["tokens"][PLAIN_EMAIL]}
    client = Client(HTTP_HOST="127.0.0.1")

    def send(role: str, method: str, path: str, body: bytes) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[role]}"}
        if method == "GET":
            return client.get(path, **headers)
        call = client.post if method == "POST" else client.patch
        return call(path, body, content_type="application/json", **headers)

    gc_time = [0.0, 0.0]

    def gc_clock(phase: str, info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    gc.callbacks.append(gc_clock)
    out: dict[str, Any] = {}
    for mode in args.requests.split(","):
        for role in args.roles.split(","):
            stored: dict[str, int | None] = {}
            if mode == "update":
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT id, priority FROM {table_name}")  # noqa: S608
                    stored = dict(cursor.fetchall())
            requests = _requests(mode, role, args.count, ids[role], stored)
            for method, path, body in requests[-20:]:  # warm: caches, connection
                response = send(role, method, path, body)
                assert response.status_code in (200, 201), response.content[:300]
            if args.sql and server == "runtime":
                with CaptureQueriesContext(connection) as captured:
                    send(role, *requests[0])
                print(f"--- SQL of one {mode} {role} ({server}):")
                for query in captured.captured_queries:
                    print("   ", query["sql"][:400])
                requests = requests[1:]
            profiler = cProfile.Profile() if args.profile and server == "runtime" else None
            if os.environ.get("BENCH_GC_FREEZE"):
                gc.collect()
                gc.freeze()
            gc_time[0] = 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for method, path, body in requests[:-20]:
                send(role, method, path, body)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            n = len(requests) - 20
            out[f"{mode} {role}"] = {
                "cpu_us": round(cpu / n * 1e6),
                "wall_us": round(wall / n * 1e6),
                "gc_us": round(gc_time[0] / n * 1e6),
            }
            print(
                f"{server:8} {mode:6} {role:5} cpu {cpu / n * 1e6:6.0f} us/request, "
                f"wall {wall / n * 1e6:6.0f} us/request, "
                f"of it in the garbage collector {gc_time[0] / n * 1e6:5.0f} us/request",
                flush=True,
            )
            if profiler:
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text).sort_stats(args.sort)
                stats.print_stats(args.top)
                for name in filter(None, args.callees.split(",")):
                    stats.print_callees(name)
                for name in filter(None, args.callers.split(",")):
                    stats.print_callers(name)
                print(text.getvalue())
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
