"""Kernel measurements of issue 7: `bench/run --kernels` (also part of a default run).

- build: the median of N fresh builds in one process of
  `Kernel(project, version_id, number, load_artifact(raw))` (pydantic validation of the
  raw JSON included), for the benchmark's task artifact (the one the 32 projects
  below serve), the CRM example, the showcase example and a generated artifact of
  50 objects x 20 fields (mixed types, lookups between the objects);
- memory per kernel: M kernels of each artifact built and kept alive, measured with
  tracemalloc (Python allocations retained per kernel) and as the VmRSS delta per kernel;
- 32 cached projects: 32 small projects (bench/artifacts/task.json) published into a
  fresh temp data dir, each requested once in process through the whole stack (Django's
  test Client, the kernel cache as a server has it), then the VmRSS of that process:
  base (Django set up, before any request), after the first project and after all 32.

Every part runs in its own child process (`python -m bench.runner.kernels --child ...`),
so one measurement's memory never counts in another's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.runner.seed import ARTIFACT, ROOT

SHARED = ROOT.parent / "shared" / "artifacts"
EXAMPLES = {
    "crm": SHARED / "crm-minimal-v17" / "objectstack.json",
    "showcase": SHARED / "showcase-v17" / "objectstack.json",
}
TARGETS_MS = {"crm": 50, "gen50x20": 300}
TARGET_KERNEL_MB = 10
TARGET_BASE_RSS_MIB = 120
PROJECTS = 32
PASSWORD = "bench-password-1"


# -- the generated artifact ------------------------------------------------------------
FIELD_KINDS = (
    ("text", {"maxLength": 120}),
    ("textarea", {}),
    ("select", {"options": [{"label": s.title(), "value": s} for s in ("new", "open", "won")]}),
    ("number", {}),
    ("currency", {"scale": 2}),
    ("integer_rating", {}),
    ("date", {}),
    ("datetime", {}),
    ("boolean", {}),
    ("email", {}),
    ("url", {}),
    ("percent", {}),
    ("multiselect", {"options": [{"label": s, "value": s} for s in ("a", "b", "c")]}),
    ("json", {}),
    ("lookup", {}),
)


def generated_artifact(objects: int = 50, fields: int = 20, seed: int = 17) -> dict[str, Any]:
    """`objects` objects of `fields` fields each: mixed types, the first field a required
    name, and every object with lookups to earlier ones (a connected graph)."""
    rng = random.Random(seed)
    out = []
    for n in range(objects):
        name = f"gen_object_{n:02d}"
        spec: dict[str, Any] = {
            "name": {
                "label": "Name",
                "type": "text",
                "required": True,
                "maxLength": 200,
                "searchable": True,
            },
        }
        for f in range(1, fields):
            kind, extra = FIELD_KINDS[(n + f) % len(FIELD_KINDS)]
            field: dict[str, Any] = {"label": f"Field {f}", **extra}
            if kind == "integer_rating":
                field.update(type="rating", max=5)
            elif kind == "lookup":
                if n == 0:
                    field.update(type="text")
                else:
                    target = f"gen_object_{rng.randrange(n):02d}"
                    field.update(type="lookup", reference=target, deleteBehavior="set_null")
            else:
                field["type"] = kind
            spec[f"field_{f:02d}"] = field
        out.append(
            {
                "name": name,
                "label": f"Generated {n}",
                "pluralLabel": f"Generated {n}s",
                "sharingModel": "private",
                "fields": spec,
            }
        )
    return {
        "manifest": {
            "id": "dev.objectos.bench.gen",
            "namespace": "gen",
            "version": "1.0.0",
            "type": "app",
            "scope": "project",
            "name": "Generated 50x20",
            "engines": {"protocol": "^17"},
        },
        "objects": out,
    }


def _raw(name: str) -> dict[str, Any]:
    if name == "gen50x20":
        return generated_artifact()
    if name == "task":
        return json.loads(ARTIFACT.read_text())
    return json.loads(EXAMPLES[name].read_text())


# -- child: build time and memory per kernel ------------------------------------------
def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_builds(name: str, builds: int, kept: int) -> dict[str, Any]:
    from apps.artifact.load import load_artifact
    from apps.kernel.kernel import Kernel

    raw = _raw(name)
    text = json.dumps(raw)
    # One untimed build first: imports, pydantic and registry caches are warm after it.
    first = Kernel(f"warm_{name}", 1, 1, load_artifact(json.loads(text)))
    objects = len(first.objects)
    fields = sum(len(o.fields) for o in first.objects.values())
    del first
    gc.collect()
    seconds, cpu_seconds, load_seconds = [], [], []
    for n in range(builds):
        fresh = json.loads(text)  # a new dict each time, as a cache miss reads it
        cpu, started = time.process_time(), time.perf_counter()
        loaded = load_artifact(fresh)
        loaded_at = time.perf_counter()
        Kernel(f"b{n}_{name}", n + 2, 1, loaded)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu)
        load_seconds.append(loaded_at - started)
    gc.collect()
    # Memory: `kept` kernels alive at once, built twice: first for the VmRSS delta (no
    # tracing: tracemalloc's own bookkeeping would count), then under tracemalloc.
    kernels = []
    raws = [json.loads(text) for _ in range(kept)]
    gc.collect()
    rss_before = _rss_kib()
    kernels += [Kernel(f"r{n}_{name}", 10_000 + n, 1, load_artifact(raws[n])) for n in range(kept)]
    raws.clear()  # the kernel keeps what it needs (its LoadedArtifact), not the raw dict
    gc.collect()
    rss_after = _rss_kib()
    raws = [json.loads(text) for _ in range(kept)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kernels += [Kernel(f"m{n}_{name}", 20_000 + n, 1, load_artifact(raws[n])) for n in range(kept)]
    raws.clear()
    gc.collect()
    after = tracemalloc.take_snapshot()
    traced = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    assert len(kernels) == 2 * kept
    return {
        "artifact": name,
        "objects": objects,
        "fields": fields,
        "builds": builds,
        "build_ms_median": round(statistics.median(seconds) * 1000, 1),
        "build_ms_min": round(min(seconds) * 1000, 1),
        "build_ms_max": round(max(seconds) * 1000, 1),
        "build_cpu_ms_median": round(statistics.median(cpu_seconds) * 1000, 1),
        "load_artifact_ms_median": round(statistics.median(load_seconds) * 1000, 1),
        "kernels_kept": kept,
        "tracemalloc_mb_per_kernel": round(traced / kept / 1e6, 2),
        "rss_mib_per_kernel": round((rss_after - rss_before) / kept / 1024, 2),
    }


# -- child: 32 cached projects in one process -----------------------------------------
def publish_projects(count: int) -> dict[str, Any]:
    """Run under a fresh OS_DATA_DIR: migrate, publish `count` copies of the task
    artifact as projects p01.. with hosts p01.bench.test.., one superuser each."""
    from django.core.management import call_command

    quiet = open(os.devnull, "w")  # noqa: SIM115
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    for n in range(1, count + 1):
        name = f"p{n:02d}"
        call_command(
            "load_artifact",
            str(ARTIFACT),
            project=name,
            hosts=[f"{name}.bench.test"],
            approve=True,
            stdout=quiet,
        )
        call_command(
            "create_user",
            f"admin@{name}.bench.test",
            "--password",
            PASSWORD,
            "--project",
            name,
            "--superuser",
            stdout=quiet,
        )
    return {"publish_seconds": round(time.perf_counter() - started, 1)}


def measure_projects(count: int) -> dict[str, Any]:
    """In a process that only served requests: VmRSS before any request, after the first
    project answered, after all `count` answered (each once, through the kernel cache)."""
    from apps.kernel.cache import kernels
    from django.test import Client

    gc.collect()
    base = _rss_kib()
    after: dict[int, int] = {}
    statuses = []
    for n in range(1, count + 1):
        name = f"p{n:02d}"
        client = Client(HTTP_HOST=f"{name}.bench.test")
        signed = client.post(
            "/api/v1/auth/sign-in/email",
            {"email": f"admin@{name}.bench.test", "password": PASSWORD},
            content_type="application/json",
        )
        token = signed.json().get("token") if signed.status_code == 200 else None
        listed = client.get("/api/v1/data/app_task?top=5", HTTP_AUTHORIZATION=f"Bearer {token}")
        statuses.append(listed.status_code)
        if n in (1, count):
            gc.collect()
            after[n] = _rss_kib()
    return {
        "projects": count,
        "ok": sum(1 for s in statuses if s == 200),
        "kernels_cached": len(kernels),
        "rss_base_mib": round(base / 1024, 1),
        "rss_one_project_mib": round(after[1] / 1024, 1),
        "rss_all_projects_mib": round(after[count] / 1024, 1),
        "rss_per_extra_project_mib": round((after[count] - after[1]) / (count - 1) / 1024, 2),
    }


# -- parent ----------------------------------------------------------------------------
def _child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner.kernels", "--child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"kernels {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OS_DATA_DIR"}}
    env.update(
        {
            "OS_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "objectos_site.settings",
            "PYTHONPATH": str(ROOT),
            "OS_ACCESS_LOG": "0",
        }
    )
    return env


def run(
    builds: int = 20, kept: int = 5, projects: int = PROJECTS, log: Any = print
) -> dict[str, Any]:
    """Every kernel measurement, each in a child process; returns the JSON-ready result."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    result: dict[str, Any] = {"builds": {}, "projects": {}}
    try:
        env = _env(data_dir)
        for name in ("task", "crm", "showcase", "gen50x20"):
            measured = _child(["build", name, str(builds), str(kept)], env)
            result["builds"][name] = measured
            log(
                f"kernel {name:9} {measured['objects']:3} objects {measured['fields']:5} fields: "
                f"build {measured['build_ms_median']:6.1f} ms (median of {builds}), "
                f"{measured['tracemalloc_mb_per_kernel']:5.2f} MB traced / "
                f"{measured['rss_mib_per_kernel']:5.2f} MiB RSS per kernel"
            )
        published = _child(["publish", str(projects)], env)
        measured = _child(["projects", str(projects)], env)
        result["projects"] = {**published, **measured}
        log(
            f"{projects} projects: published in {published['publish_seconds']} s; RSS base "
            f"{measured['rss_base_mib']} MiB, 1 project {measured['rss_one_project_mib']} MiB, "
            f"{projects} projects {measured['rss_all_projects_mib']} MiB "
            f"({measured['ok']}/{projects} answered 200, {measured['kernels_cached']} cached)"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        "kernel      objects fields  build ms: median (min-max)  cpu ms  of which "
        "load_artifact  MB/kernel tracemalloc  MiB/kernel RSS  targets"
    ]
    for name, m in result.get("builds", {}).items():
        target = TARGETS_MS.get(name)
        verdict = (
            f"< {target} ms: {'met' if m['build_ms_median'] < target else 'MISSED'}"
            if target
            else "-"
        )
        per_kernel = max(m["tracemalloc_mb_per_kernel"], m["rss_mib_per_kernel"] * 1.048576)
        verdict += (
            f"; < {TARGET_KERNEL_MB} MB: {'met' if per_kernel < TARGET_KERNEL_MB else 'MISSED'}"
        )
        spread = f"{m['build_ms_median']:.1f} ({m['build_ms_min']:.1f}-{m['build_ms_max']:.1f})"
        lines.append(
            f"{name:11} {m['objects']:7} {m['fields']:6}  {spread:>26}  "
            f"{m['build_cpu_ms_median']:6.1f}  {m['load_artifact_ms_median']:22.1f}  "
            f"{m['tracemalloc_mb_per_kernel']:20.2f}  {m['rss_mib_per_kernel']:14.2f}  "
            f"{verdict}"
        )
    p = result.get("projects")
    if p:
        base_ok = "met" if p["rss_base_mib"] < TARGET_BASE_RSS_MIB else "MISSED"
        lines.append(
            f"{p['projects']} cached projects in one process (task.json each, in process): "
            f"RSS base {p['rss_base_mib']} MiB (< {TARGET_BASE_RSS_MIB}: {base_ok}), "
            f"1 project {p['rss_one_project_mib']} MiB, {p['projects']} projects "
            f"{p['rss_all_projects_mib']} MiB (+{p['rss_per_extra_project_mib']} MiB each); "
            f"{p['ok']}/{p['projects']} answered 200"
        )
    return "\n".join(lines)


def child_main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    what = argv[0]
    if what == "build":
        result = measure_builds(argv[1], int(argv[2]), int(argv[3]))
    elif what == "publish":
        result = publish_projects(int(argv[1]))
    else:
        result = measure_projects(int(argv[1]))
    print(json.dumps(result))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        child_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.runner.kernels")
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--kept", type=int, default=5)
    parser.add_argument("--projects", type=int, default=PROJECTS)
    args = parser.parse_args(argv)
    result = run(args.builds, args.kept, args.projects)
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
