"""One table for the terminal and the same numbers as JSON under bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.runner.load import REQUESTS, ROLES


def ratios(servers: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """runtime req/s divided by each baseline's req/s, per row."""
    runtime = servers.get("runtime", {}).get("rows", {})
    found: dict[str, dict[str, float | None]] = {}
    for baseline in ("drf", "plain"):
        other = servers.get(baseline, {}).get("rows", {})
        if not runtime or not other:
            continue
        found[f"runtime/{baseline}"] = {
            row: round(runtime[row]["rps"] / other[row]["rps"], 2)
            if row in runtime and other.get(row, {}).get("rps") else None
            for row in runtime
        }
    return found


def _cell(row: dict[str, Any] | None) -> str:
    if not row:
        return f"{'-':>7} {'-':>6} {'-':>6}"
    text = f"{row['rps']:7.0f} {row['p50_ms']:6.1f} {row['p99_ms']:6.1f}"
    return text + ("!" if row.get("errors") else " ")


def table(result: dict[str, Any]) -> str:
    servers = result["servers"]
    names = [n for n in ("runtime", "drf", "plain") if n in servers]
    found = result["ratios"]
    ratio_names = [name for name in ("runtime/drf", "runtime/plain") if name in found]
    width = 22
    lines = [
        " ".join(["request     "] + [f"{n:^{width}}" for n in names]
                 + [f"{r:>13}" for r in ratio_names]),
        " ".join(["            "] + [f"{'req/s':>7} {'p50ms':>6} {'p99ms':>6} " for _ in names]
                 + [f"{'(req/s)':>13}" for _ in ratio_names]),
    ]
    for mode in REQUESTS:
        for role in ROLES:
            row = f"{mode} {role}"
            cells = [_cell(servers[n].get("rows", {}).get(row)) for n in names]
            shown = []
            for r in ratio_names:
                value = found[r].get(row)
                shown.append(f"{value:>12.2f}x" if value is not None else f"{'-':>13}")
            lines.append(" ".join([f"{row:12}"] + cells + shown))

    def summary(label: str, render) -> str:
        return " ".join([f"{label:12}"] + [f"{render(servers[n]):>{width}}" for n in names])

    lines.append(summary("cold start", lambda s: f"{s['cold_start_s']:.2f} s"
                         if s.get("cold_start_s") is not None else "-"))
    lines.append(summary("RSS total", lambda s: f"{s['rss']['total_kib'] / 1024:.0f} MiB"
                         if s.get("rss") else "-"))
    lines.append(summary("RSS worker", lambda s: f"{s['rss']['workers_kib'] / 1024:.0f} MiB"
                         if s.get("rss") else "-"))
    lines.append(summary("row rule", lambda s: _yes(s, "row_rule_enforced")))
    lines.append(summary("field rule", lambda s: _yes(s, "field_rule_enforced")))
    lines.append(summary("plain total", lambda s: str(
        s.get("probe", {}).get("list_plain", {}).get("total", "-"))))
    config = result["config"]
    head = (f"db={config['db']} granian 1 worker x {config['threads']} thread(s), "
            f"wrk -t1 -c{config['connections']} -d{config['duration']}s "
            f"(warm-up {config['warmup']}s), rows={config['rows']}, {config['started']}")
    notes = ["'!' after a cell: non-2xx responses or socket errors during that run (see JSON)."]
    notes += [f"wire: {note}" for note in result.get("wire_differences", [])]
    for name in names:
        if servers[name].get("error"):
            notes.append(f"{name}: {servers[name]['error']}")
    return "\n".join([head, *lines, *notes])


def _yes(server: dict[str, Any], key: str) -> str:
    probe = server.get("probe")
    if not probe:
        return "-"
    return "enforced" if probe.get(key) else "NOT enforced"


def save(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['config']['stamp']}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
