"""The PostgreSQL client programs (pg_dump, pg_restore, psql) and how to call them.

A program is taken from OS_PG_BIN_DIR when set, else from the newest
/usr/lib/postgresql/<major>/bin (Debian installs several side by side, and pg_dump must be
at least as new as the server), else from PATH. Connection settings come from Django's
DATABASES entry and are passed in the environment (PGPASSWORD never shows in `ps`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from apps.ops.exceptions import OpsError

LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
}


def _major(path: str) -> int:
    match = re.search(r"/postgresql/(\d+)/bin/", path)
    return int(match.group(1)) if match else 0


def find_program(name: str) -> str:
    """The path of PostgreSQL client program `name` (see the module docstring)."""
    configured = os.environ.get("OS_PG_BIN_DIR")
    if configured:
        candidate = Path(configured) / name
        if candidate.is_file():
            return str(candidate)
        raise OpsError(f"{name} not found in OS_PG_BIN_DIR={configured}")
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major, reverse=True)
    if installed:
        return installed[0]
    found = shutil.which(name)
    if found:
        return found
    raise OpsError(
        f"{name} not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL "
        "client programs (e.g. apt-get install postgresql-client) or set OS_PG_BIN_DIR"
    )


def program_version(path: str) -> str:
    result = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip()


def environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """os.environ plus libpq's PG* variables for the database of `settings_dict`."""
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST") or "",
        "PGPORT": str(settings_dict.get("PORT") or ""),
        "PGUSER": settings_dict.get("USER") or "",
        "PGPASSWORD": settings_dict.get("PASSWORD") or "",
        "PGDATABASE": settings_dict.get("NAME") or "",
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in LIBPQ_OPTIONS.items():
        if options.get(option) is not None:
            values[variable] = str(options[option])
    env.update({key: value for key, value in values.items() if value})
    return env


def run(args: list[str], settings_dict: dict[str, Any], what: str) -> None:
    """Run a client program; its stderr becomes the one-line error when it fails."""
    result = subprocess.run(
        args, env=environment(settings_dict), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise OpsError(f"{what} failed: {first_error(result.stderr)}")


def first_error(text: str) -> str:
    """The line of a client program's stderr that says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[-1] if lines else "(no message)"
