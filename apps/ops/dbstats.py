"""Query planner statistics for SQLite (PostgreSQL's autovacuum gathers its own).

Without statistics SQLite guesses which index to use, and guesses badly for the commonest
list of a private object: for `owner_id = ? AND status = ?` it chose the `status` index
(a third of the table) over the owner's (a tenth), and the benchmark's plain-user list
read and sorted 3,340 rows instead of 1,000. `PRAGMA optimize` of the SQLite that Python
3.11 ships (3.40) only analyzes tables the current connection has already queried, so
the runtime runs ANALYZE itself: when a web process starts (apps.ops.startup) and every
hour (the `objectos.dbstats` schedule, apps.ops.schedules). `analysis_limit` bounds the
work to about a thousand rows per index (milliseconds on a table of millions).
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections

ANALYSIS_LIMIT = 1000


def refresh_statistics(using: str = DEFAULT_DB_ALIAS) -> bool:
    """ANALYZE the database when it is SQLite; whether it did."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return True
