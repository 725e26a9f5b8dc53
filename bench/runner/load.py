"""Drive a running server: correctness probes first, then wrk for each (request, role)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runner.dataset import ADMIN_EMAIL, PLAIN_EMAIL, USERS, ids_by_owner
from bench.runner.seed import ROOT
from bench.runner.servers import Instance, request

LUA = ROOT / "bench" / "wrk" / "workload.lua"
COLLECTION = "/api/v1/data/app_task"
LIST_PATH = COLLECTION + "?status=open&sort=-priority&top=50"
REQUESTS = ("list", "get", "create", "update")
ROLES = {"admin": ADMIN_EMAIL, "plain": PLAIN_EMAIL}
EXPECTED_KEYS = {"id", "owner_id", "created_by", "created_at", "updated_by", "updated_at",
                 "title", "status", "priority", "due_date", "amount", "description", "done"}


@dataclass(frozen=True)
class LoadShape:
    warmup: int
    duration: int
    connections: int = 8


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get (Debian package) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True).returncode:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=True)
    return shutil.which("wrk") or "wrk"


def write_id_files(directory: Path) -> dict[str, Path]:
    """Ids each role rotates over: the admin all 10,000, the plain user its own 1,000."""
    owned = ids_by_owner()
    plain_index = next(i for i, (email, _) in enumerate(USERS) if email == PLAIN_EMAIL)
    everything = [row_id for n in sorted(owned) for row_id in owned[n]]
    files = {"admin": directory / "ids-admin.txt", "plain": directory / "ids-plain.txt"}
    files["admin"].write_text("\n".join(everything) + "\n")
    files["plain"].write_text("\n".join(owned[plain_index]) + "\n")
    return files


def probe(instance: Instance) -> dict[str, Any]:
    """Check the wire format and whether the row and field rules hold for the plain user."""
    tokens = instance.seed["tokens"]
    owned = ids_by_owner()
    plain_index = next(i for i, (email, _) in enumerate(USERS) if email == PLAIN_EMAIL)
    other_index = (plain_index + 1) % len(USERS)
    result: dict[str, Any] = {}
    for role, email in ROLES.items():
        status, body = request(instance, "GET", LIST_PATH, tokens[email])
        ok = status == 200 and isinstance(body, dict)
        result[f"list_{role}"] = {
            "status": status,
            "records": len(body.get("records", [])) if ok else None,
            "total": body.get("total") if ok else None,
            "body_keys": sorted(body) if ok else str(body)[:200],
        }
    status, body = request(instance, "GET", f"{COLLECTION}/{owned[plain_index][0]}",
                           tokens[PLAIN_EMAIL])
    record = body.get("record", {}) if status == 200 and isinstance(body, dict) else {}
    result["own_get_status"] = status
    result["record_keys"] = sorted(record)
    result["unexpected_keys"] = sorted(set(record) - EXPECTED_KEYS)
    result["missing_keys"] = sorted(EXPECTED_KEYS - {"amount"} - set(record))
    result["field_rule_enforced"] = bool(record) and "amount" not in record
    status, body = request(instance, "GET", f"{COLLECTION}/{owned[0][0]}", tokens[ADMIN_EMAIL])
    result["sample_record"] = body.get("record") if isinstance(body, dict) else body
    status, body = request(instance, "GET", LIST_PATH, tokens[ADMIN_EMAIL])
    result["sample_list_ids"] = [r.get("id") for r in body.get("records", [])[:5]] if (
        isinstance(body, dict)) else []
    status, body = request(instance, "GET", f"{COLLECTION}/{owned[other_index][0]}",
                           tokens[PLAIN_EMAIL])
    result["other_get_status"] = status
    result["row_rule_enforced"] = status == 404
    return result


USER_ID_COLUMNS = {"owner_id", "created_by", "updated_by"}


def wire_differences(probes: dict[str, dict[str, Any]]) -> list[str]:
    """Where the servers' answers for the same seeded row and list differ (user ids aside:
    each server numbers its users itself)."""
    names = [n for n in probes if probes[n].get("sample_record")]
    notes = []
    for name in names[1:]:
        first, other = probes[names[0]]["sample_record"], probes[name]["sample_record"]
        if not isinstance(first, dict) or not isinstance(other, dict):
            notes.append(f"{name}: no record to compare")
            continue
        for key in sorted((set(first) | set(other)) - USER_ID_COLUMNS):
            if first.get(key, "<absent>") != other.get(key, "<absent>"):
                notes.append(f"{names[0]} vs {name}: {key} = {first.get(key, '<absent>')!r} "
                             f"vs {other.get(key, '<absent>')!r}")
        if probes[names[0]]["sample_list_ids"] != probes[name]["sample_list_ids"]:
            notes.append(f"{names[0]} vs {name}: list order differs "
                         f"({probes[names[0]]['sample_list_ids'][:3]} vs "
                         f"{probes[name]['sample_list_ids'][:3]})")
    return notes


TABLES = {"runtime": "app__app_task", "drf": "common_task", "plain": "common_task"}


def stored_priorities(instance: Instance) -> dict[str, int]:
    """Each row's priority as stored now, read from the server's database."""
    table = TABLES[instance.spec.name]
    sql = f"SELECT id, priority FROM {table}"  # noqa: S608 - a constant table name
    if instance.database:
        import psycopg

        from bench.runner.servers import POSTGRES_URL

        with psycopg.connect(f"{POSTGRES_URL}/{instance.database}") as connection:
            return {str(k).replace("-", ""): v for k, v in connection.execute(sql).fetchall()}
    name = "objectos.sqlite3" if instance.spec.name == "runtime" else "db.sqlite3"
    with closing(sqlite3.connect(instance.data_dir / name)) as connection:
        return {str(k).replace("-", ""): v for k, v in connection.execute(sql).fetchall()}


def update_file(instance: Instance, ids_file: Path) -> Path:
    """`id priority` per line for an update run: the script sends each row a priority it
    does not hold, so every PATCH changes the row on every server (a PATCH that changes
    nothing is answered without a write by the runtime, and would flatter it)."""
    stored = stored_priorities(instance)
    ids = [line for line in ids_file.read_text().split() if line]
    target = ids_file.with_name(f"{ids_file.stem}-{instance.spec.name}-priorities.txt")
    target.write_text("".join(f"{i} {stored.get(i, 1)}\n" for i in ids))
    return target


def run_wrk(wrk: str, instance: Instance, mode: str, role: str, seconds: int,
            id_files: dict[str, Path], connections: int) -> dict[str, Any]:
    token = instance.seed["tokens"][ROLES[role]]
    ids_file = update_file(instance, id_files[role]) if mode == "update" else id_files[role]
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA),
               instance.base_url, "--", mode, token, str(ids_file),
               "amount" if role == "admin" else "-"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("WRK_JSON "):])
    seconds_run = raw["duration_us"] / 1e6 or 1.0
    return {
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["socket_errors"],
        "raw": raw,
    }


def drive(wrk: str, instances: list[Instance], shape: LoadShape, id_files: dict[str, Path],
          log: Any = print) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Warm-up then measure every (request, role) on every server, the servers back to
    back for each row and their order rotating from one row to the next.

    A shared machine's speed drifts over minutes (30% within one run was seen): servers
    measured one after another, a few minutes each, carried that drift into their
    ratios. Interleaved, the servers of one row are measured within a minute of each
    other. Returns the rows per server (keys like 'list admin') and the error of any
    server that failed (it is left out of the rows after that)."""
    rows: dict[str, dict[str, Any]] = {instance.spec.name: {} for instance in instances}
    failed: dict[str, str] = {}
    pairs = [(mode, role) for mode in REQUESTS for role in ROLES]
    for index, (mode, role) in enumerate(pairs):
        shift = index % len(instances)
        for instance in instances[shift:] + instances[:shift]:
            name = instance.spec.name
            if name in failed:
                continue
            try:
                if shape.warmup:
                    run_wrk(wrk, instance, mode, role, shape.warmup, id_files, shape.connections)
                measured = run_wrk(wrk, instance, mode, role, shape.duration, id_files,
                                   shape.connections)
            except Exception as error:  # one broken server must not stop the others
                failed[name] = f"{mode} {role}: {error}"
                log(f"  {name:8} {mode:6} {role:5} FAILED: {error}")
                continue
            rows[name][f"{mode} {role}"] = measured
            log(f"  {name:8} {mode:6} {role:5} {measured['rps']:8.1f} req/s "
                f"p50 {measured['p50_ms']:6.1f} ms p99 {measured['p99_ms']:6.1f} ms"
                + (f"  ({measured['errors']} errors)" if measured["errors"] else ""))
    return rows, failed
