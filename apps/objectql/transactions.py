"""Write transactions. On SQLite, writers of one process queue on a lock first; on
PostgreSQL, the audit events go with the COMMIT.

SQLite allows one writer at a time; a second writer waits in SQLite's busy handler,
which sleeps in steps of up to 100 ms and so turns contention into p99 spikes. Queuing
the process's writers on a Python lock hands the write lock over without sleeping.
Other processes still meet in SQLite's busy handler (busy_timeout). Plain creates queue
for a shared transaction instead (apps/objectql/grouped.py), which takes the same lock.

PostgreSQL: an audit append locks the project's chain head until the transaction ends,
so it is sent with the COMMIT, in one round trip (apps/audit/linked.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from apps.audit.linked import appends_with_commit

sqlite_writer = threading.RLock()  # the process's SQLite writer: held for a transaction


@contextmanager
def write_transaction() -> Iterator[None]:
    """An atomic block for a data change (joins an enclosing one)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with appends_with_commit():
            yield
        return
    with sqlite_writer, transaction.atomic():
        yield
