"""Where a job may run: `_any`, `_all`, a worker name or hostname, or `key:value` labels.

`_any` is one worker (the shared queue balances the load). Everything else names workers,
each of which gets its own delivery: `_all` every live worker, `web-1` the workers with
that name or hostname, `group:web` those whose label `group` is `web` or below it in
dotted order (`web.dev`, `web.dev.us-east`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from apps.jobs.exceptions import InvalidJob

ANY = "_any"
ALL = "_all"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
LABEL_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
LABEL_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class Target:
    kind: str  # "any" | "all" | "name" | "label"
    name: str = ""
    key: str = ""
    value: str = ""

    def matches(self, worker_name: str, hostname: str, labels: dict[str, str]) -> bool:
        """Whether a worker (its name, hostname and labels) is addressed by this target."""
        if self.kind in ("any", "all"):
            return True
        if self.kind == "name":
            return self.name in (worker_name, hostname)
        value = str(labels.get(self.key, ""))
        return value == self.value or value.startswith(self.value + ".")


def parse_target(raw: str) -> Target:
    """The Target named by `raw`, or InvalidJob naming the `target` field."""
    raw = (raw or "").strip()
    if raw == ANY:
        return Target("any")
    if raw == ALL:
        return Target("all")
    if ":" in raw:
        key, _, value = raw.partition(":")
        if LABEL_KEY.match(key) and LABEL_VALUE.match(value):
            return Target("label", key=key, value=value)
    elif NAME.match(raw):
        return Target("name", name=raw)
    raise InvalidJob(
        f"invalid target {raw!r}: use _any, _all, a worker name or hostname, or key:value",
        field="target",
    )


def parse_labels(raw: str) -> dict[str, str]:
    """`group=web.dev,zone=eu` (OS_WORKER_LABELS) -> {"group": "web.dev", "zone": "eu"}."""
    labels: dict[str, str] = {}
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not LABEL_KEY.match(key) or not LABEL_VALUE.match(value):
            raise ValueError(f"bad worker label {item!r}: expected key=value")
        labels[key] = value
    return labels


def matching(target: Target, workers: Iterable) -> list:
    """The workers (objects with name, hostname, labels) the target addresses."""
    return [w for w in workers if target.matches(w.name, w.hostname, w.labels or {})]
