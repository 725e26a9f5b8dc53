"""One schema change of a project at a time, across processes.

`publish.approve` plans against the published version and then applies that plan: two
approvals running at once (two workers serving the `schema` queue) could each plan
against the same old version and apply both changes. Each apply takes the project's
schema lock first and reads the published version only once it holds it. PostgreSQL:
a session advisory lock (every process and machine of the installation); SQLite (one
machine by nature): an exclusive `flock` on a file per project in OS_DATA_DIR/locks.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

# A namespace for our advisory locks (first int4 of the two-key form), then the project.
_NAMESPACE = int.from_bytes(hashlib.sha256(b"objectos.schema").digest()[:4], "big", signed=True)


@contextmanager
def schema_lock(project_id: int) -> Iterator[None]:
    """Held while one schema change of `project_id` is planned and applied."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_NAMESPACE, project_id])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_NAMESPACE, project_id])
        return
    folder = settings.OS_DATA_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"schema-{project_id}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
