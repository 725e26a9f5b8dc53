"""bench/run [--quick] [--kernels] [--db sqlite|postgres] [--only runtime,drf,plain] ...

Seeds every selected server, then for each in turn: start it (cold start = process
start to the first 200 on a GET), probe the rules, run wrk per (request, role), read
its RSS, stop it. A full run (not --quick) then measures the kernels (build time and
memory per kernel, RSS with 32 cached projects: bench/runner/kernels.py); --kernels
measures only those. Prints the tables and writes bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.runner import kernels, load, report, servers
from bench.runner.dataset import ADMIN_EMAIL, ROW_COUNT, ids_by_owner
from bench.runner.seed import ROOT


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="warm-up 1 s, runs of 3 s")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", default="runtime,drf,plain",
                        help="comma-separated servers: runtime, drf, plain")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads of the worker process (bin/serve default 4)")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per run (default 3)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temp data dirs")
    parser.add_argument("--kernels", action="store_true",
                        help="only the kernel measurements (a full run includes them)")
    parser.add_argument("--no-kernels", action="store_true",
                        help="skip the kernel measurements of a full run")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(servers.SERVERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    return args


def versions(wrk: str) -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=10)
        except OSError:
            return "?"
        return (done.stdout or done.stderr).strip().splitlines()[0] if (
            done.stdout or done.stderr) else "?"

    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "python": platform.python_version(),
        "django": version("django"),
        "djangorestframework": version("djangorestframework"),
        "granian": version("granian"),
        "runtime_commit": run("git", "rev-parse", "--short", "HEAD")
        + (" (+ uncommitted changes)" if dirty not in ("", "?") else ""),
        "wrk": run(wrk, "--version"),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def start_one(instance: servers.Instance, args: argparse.Namespace) -> dict[str, Any]:
    """Start a server alone (its cold start is its own) and probe its rules."""
    name = instance.spec.name
    first_id = ids_by_owner()[0][0]
    token = instance.seed["tokens"][ADMIN_EMAIL]
    out: dict[str, Any] = {"label": instance.spec.label, "seed": instance.seed["seconds"]}
    out["cold_start_s"] = round(servers.start(
        instance, args.threads, f"{load.COLLECTION}/{first_id}", token), 3)
    print(f"{name}: up on {instance.base_url} after {out['cold_start_s']:.2f} s", flush=True)
    out["probe"] = load.probe(instance)
    return out


def _failure(instance: servers.Instance, error: Exception | str) -> dict[str, Any]:
    code = instance.process.poll() if instance.process else None
    if code is not None:
        error = f"{error} (the server exited with code {code})"
    log = servers.tail(instance.log_path)
    print(f"{instance.spec.name}: FAILED: {error}\nserver log:\n{log}", file=sys.stderr,
          flush=True)
    return {"error": str(error)[:2000], "server_log": log}


def kernels_only(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    result: dict[str, Any] = {
        "config": {"stamp": stamp, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "kind": "kernels", "versions": versions("wrk")},
        "kernels": kernels.run(log=lambda line: print(line, flush=True)),
    }
    result["wall_seconds"] = round(time.perf_counter() - began, 1)
    print()
    print(kernels.table(result["kernels"]))
    path = report.save(result, ROOT / "bench" / "results")
    print(f"wall time {result['wall_seconds']} s; JSON: {path.relative_to(ROOT)}")
    return 0


def compile_bytecode() -> None:
    """Write the project's bytecode, as an install does for site-packages: with
    PYTHONDONTWRITEBYTECODE set (as on this machine) every server start would otherwise
    compile the runtime's ~300 modules again, and cold start would time the compiler."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folders = ["apps", "objectos_site", "objectos_plugins", "bench"]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *folders],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str]) -> int:
    args = parse(argv)
    compile_bytecode()
    if args.kernels:
        return kernels_only(args)
    began = time.perf_counter()
    wrk = load.ensure_wrk()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    result: dict[str, Any] = {
        "config": {"stamp": stamp, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "db": args.db, "threads": args.threads, "duration": args.duration,
                   "warmup": args.warmup, "connections": args.connections, "rows": ROW_COUNT,
                   "servers": args.only, "versions": versions(wrk)},
        "servers": {},
    }
    work_dir = Path(tempfile.mkdtemp(prefix="bench-ids-"))
    id_files = load.write_id_files(work_dir)
    instances: list[servers.Instance] = []
    try:
        for name in args.only:
            instance = servers.prepare(servers.SERVERS[name], args.db)
            instances.append(instance)
            seeded = servers.seed(instance)
            print(f"{name}: seeded {ROW_COUNT} rows in {sum(seeded['seconds'].values()):.1f} s "
                  f"{seeded['seconds']}", flush=True)
        running = []
        for instance in instances:  # one at a time, so each cold start is measured alone
            try:
                result["servers"][instance.spec.name] = start_one(instance, args)
                running.append(instance)
            except Exception as error:  # one broken server must not hide the others
                result["servers"][instance.spec.name] = _failure(instance, error)
                servers.stop(instance)
        shape = load.LoadShape(args.warmup, args.duration, args.connections)
        rows, failed = load.drive(wrk, running, shape, id_files,
                                  log=lambda line: print(line, flush=True))
        for instance in running:
            name = instance.spec.name
            if name in failed:
                result["servers"][name] = _failure(instance, failed[name])
                continue
            result["servers"][name]["rows"] = rows[name]
            result["servers"][name]["rss"] = servers.rss(instance)
    finally:
        for instance in instances:
            servers.stop(instance)
            servers.cleanup(instance, keep=args.keep)
        shutil.rmtree(work_dir, ignore_errors=True)  # id files and update priorities
    if not args.quick and not args.no_kernels:
        try:
            result["kernels"] = kernels.run(log=lambda line: print(line, flush=True))
        except Exception as error:  # the server table must still be printed
            print(f"kernels: FAILED: {error}", file=sys.stderr, flush=True)
            result["kernels"] = {"error": str(error)[:2000]}
    result["ratios"] = report.ratios(result["servers"])
    result["wire_differences"] = load.wire_differences(
        {n: s["probe"] for n, s in result["servers"].items() if "probe" in s})
    result["wall_seconds"] = round(time.perf_counter() - began, 1)
    print()
    print(report.table(result))
    if result.get("kernels", {}).get("builds"):
        print()
        print(kernels.table(result["kernels"]))
    path = report.save(result, ROOT / "bench" / "results")
    print(f"wall time {result['wall_seconds']} s; JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
