"""Throughput of a record-triggered flow, end to end, on the ORM broker and on Redis.

For each broker: a fresh database, a small artifact whose active flow `stamp` runs on
every create of `flb_item` and sets `stamped` through update_record, one registered
worker process (`manage.py worker`, one django-q2 worker), then N records created
through objectql, one transaction each. A create emits `data.flb_item.created`; after
the commit the kernel's subscriber checks the flow's condition and submits a job; the
worker runs the flow. The clock runs from the first create until every run completed.

    bench/flows --records 500 [--db postgres] [--brokers orm,redis]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = Path("/tmp/flows-bench")
PG_URL = "postgres://postgres@127.0.0.1:5432/objectos_flows_bench"
REDIS_URL = "redis://127.0.0.1:6379/6"
SECRET = "flows-bench-secret-not-for-production"

ARTIFACT = {
    "manifest": {"id": "flb.bench", "namespace": "flb", "version": "1.0.0"},
    "objects": [
        {
            "name": "flb_item",
            "sharingModel": "public_read_write",
            "fields": {"title": {"type": "text"}, "stamped": {"type": "boolean"}},
        }
    ],
    "flows": [
        {
            "name": "stamp",
            "status": "active",
            "type": "record_change",
            "runAs": "system",
            "nodes": [
                {"id": "start", "type": "start", "config": {
                    "objectName": "flb_item", "triggerType": "record-after-create",
                    "condition": "stamped != true"}},
                {"id": "set", "type": "update_record", "config": {
                    "objectName": "flb_item", "filter": {"id": "{record.id}"},
                    "fields": {"stamped": True}}},
                {"id": "end", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "set"},
                {"id": "e2", "source": "set", "target": "end"},
            ],
        }
    ],
}  # fmt: skip


def environment(broker: str, db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "Q_CLUSTER"))}
    env.pop("DATABASE_URL", None)
    env.update(
        OS_DATA_DIR=str(DATA_ROOT / f"{db}-{broker}"),
        OS_AUTH_SECRET=SECRET,
        OS_LOG_LEVEL="WARNING",
        OS_ACCESS_LOG="0",
        OS_WORKERS="1",
        OS_WORKER_NAME=f"flows-bench-{broker}",
        DJANGO_SETTINGS_MODULE="objectos_site.settings",
    )
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL
    if broker == "redis":
        env["OS_QUEUE_URL"] = REDIS_URL
    return env


def fresh_database(env: dict[str, str], db: str) -> None:
    shutil.rmtree(env["OS_DATA_DIR"], ignore_errors=True)
    Path(env["OS_DATA_DIR"]).mkdir(parents=True)
    if db == "postgres":
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c",
             "DROP DATABASE IF EXISTS objectos_flows_bench", "-c",
             "CREATE DATABASE objectos_flows_bench"],
            check=True, capture_output=True,
        )  # fmt: skip


def measure(records: int) -> dict:
    """In a child process with the broker's environment: publish, create, wait."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.artifact.load import load_artifact
    from apps.automation.models import FlowRun
    from apps.kernel.cache import kernels
    from apps.objectql import write
    from apps.projects.context import Context, new_request_id
    from apps.schema import publish

    project = publish.ensure_project("flb", ["flb.bench"])
    candidate = publish.propose(project, load_artifact(ARTIFACT))
    publish.approve(candidate.version)
    project.refresh_from_db()
    kernel = kernels.get_version("flb", project.published_version_id)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=open(Path(os.environ["OS_DATA_DIR"]) / "worker.log", "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    try:
        from apps.jobs.models import Worker

        deadline = time.monotonic() + 60
        while not Worker.objects.filter(pid=worker.pid, state="up").exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the worker did not start; see worker.log")
            time.sleep(0.1)
        ctx = Context(
            request_id=new_request_id(), project_id=project.pk, project_name="flb",
            kernel=kernel, is_system=True,
        )  # fmt: skip
        started = time.perf_counter()
        for index in range(records):
            write.create_record(ctx, "flb_item", {"title": f"item {index}"})
        created = time.perf_counter() - started
        deadline = time.monotonic() + 600
        while True:
            done = FlowRun.objects.filter(flow="stamp").exclude(status="running").count()
            if done >= records or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        total = time.perf_counter() - started
        completed = FlowRun.objects.filter(flow="stamp", status="completed").count()
        model = kernel.object("flb_item").model
        stamped = model._base_manager.filter(stamped=True).count()
        return {
            "records": records,
            "created_per_s": round(records / created, 1),
            "seconds": round(total, 2),
            "end_to_end_per_s": round(completed / total, 1),
            "completed": completed,
            "stamped": stamped,
        }
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--brokers", default="orm,redis")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.records)))
        return
    rows = []
    for broker in args.brokers.split(","):
        env = environment(broker, args.db)
        fresh_database(env, args.db)
        if broker == "redis":
            import redis

            redis.from_url(REDIS_URL).flushdb()
        result = subprocess.run(
            [sys.executable, "-m", "bench.flows_throughput", "--child",
             "--records", str(args.records)],
            cwd=REPO, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            sys.exit(f"{broker}: failed\n{result.stderr[-3000:]}")
        rows.append((broker, json.loads(result.stdout.strip().splitlines()[-1])))
    print(f"record-triggered flow, {args.records} records, {args.db}, 1 worker")
    print(f"{'broker':8} {'created/s':>10} {'end-to-end/s':>13} {'seconds':>8} {'completed':>10}")
    for broker, row in rows:
        print(
            f"{broker:8} {row['created_per_s']:>10} {row['end_to_end_per_s']:>13} "
            f"{row['seconds']:>8} {row['completed']:>7}/{row['records']}"
        )
        if row["stamped"] != row["records"]:
            print(f"  !! only {row['stamped']} of {row['records']} records were stamped")


if __name__ == "__main__":
    main()
