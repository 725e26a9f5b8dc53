"""The server lock: how `restore` knows a server is using this instance's database.

Every web process (objectos_site.wsgi / asgi, so gunicorn workers and runserver) and every
`qcluster` worker takes a SHARED `flock` on `OS_DATA_DIR/server.lock` when it starts and
holds it until it exits; the kernel releases it when the process dies, even by SIGKILL, so
a crashed server never leaves a stale lock behind. `restore` takes the lock EXCLUSIVELY
without waiting: if that fails, a server is running. While a restore holds it, a server
that starts waits for the restore to finish. Taking the lock costs one system call at
start and nothing per request.

On PostgreSQL the web and worker processes may run on other machines, so `restore` also
looks for other client connections to the database (pg_stat_activity).
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from apps.ops.exceptions import ServerRunning

LOCK_FILE = "server.lock"
SERVER_COMMANDS = frozenset({"qcluster", "runserver"})
_held: list[int] = []  # descriptors kept open for the life of the process


def lock_path() -> Path:
    return Path(settings.OS_DATA_DIR) / LOCK_FILE


def _open() -> int:
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def hold_server_lock() -> None:
    """Mark this process as a server until it exits (idempotent)."""
    if _held:
        return
    descriptor = _open()
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.stderr.write(f"objectos: a restore holds {lock_path()}; waiting for it to finish\n")
        fcntl.flock(descriptor, fcntl.LOCK_SH)
    _held.append(descriptor)


def is_server_command(argv: list[str]) -> bool:
    """True for `manage.py qcluster` / `manage.py runserver` (web processes are marked
    by objectos_site.wsgi and asgi instead)."""
    return len(argv) > 1 and argv[1] in SERVER_COMMANDS


@contextmanager
def server_stopped(*, force: bool = False) -> Iterator[bool]:
    """Hold the lock exclusively for the enclosed block, so no server starts meanwhile.

    Raises ServerRunning when a server holds it, unless `force` (then the block runs
    without the lock and this yields False)."""
    descriptor = _open()
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not force:
                raise ServerRunning(
                    f"a server (web or worker) is running on this instance ({lock_path()} "
                    "is held): stop it first, or pass --force"
                )
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock
