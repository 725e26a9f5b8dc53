"""Facts a worker reports with each heartbeat: CPUs, load, memory, disk of the data dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings


def _meminfo() -> dict[str, int]:
    """Total and available memory in bytes, from /proc/meminfo (empty where absent)."""
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("MemTotal", "MemAvailable"):
                values[name] = int(rest.split()[0]) * 1024
    except OSError:
        return {}
    return {"total": values.get("MemTotal", 0), "available": values.get("MemAvailable", 0)}


def host_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {"cpu_count": os.cpu_count() or 0}
    try:
        facts["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        facts["load_average"] = None
    facts["memory"] = _meminfo() or None
    try:
        usage = shutil.disk_usage(settings.OS_DATA_DIR)
        facts["disk"] = {
            "path": str(settings.OS_DATA_DIR),
            "total": usage.total,
            "used": usage.used,
            "free": usage.free,
        }
    except OSError:
        facts["disk"] = None
    return facts
