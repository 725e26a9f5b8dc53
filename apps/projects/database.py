"""Tell "the database cannot be reached" apart from every other database error.

Such an error answers 503 DATABASE_UNAVAILABLE (the middleware, the API's error handler,
the 500 handler) instead of a traceback. Django reconnects by itself on the next request:
a connection that raised one of these is closed when its request finishes
(`close_old_connections`) and a reused one is health-checked (`CONN_HEALTH_CHECKS`).
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
DATABASE_UNAVAILABLE_MESSAGE = "the database is unavailable; try again shortly"

# SQLSTATE classes of a lost or refused connection: 08 connection exception, 57P01-57P03
# admin/crash shutdown and "cannot connect now" (starting up). Everything else that
# psycopg reports as an OperationalError (lock or statement timeouts, serialization
# failures) is a query problem, not an outage.
_POSTGRES_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
# sqlite3 has no codes: a missing or unreadable file, or a failing disk.
_SQLITE_CONNECTION_MESSAGES = ("unable to open database file", "disk i/o error")


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (a Django database error) means the database cannot be reached."""
    if isinstance(exc, InterfaceError):
        return True  # the connection is closed or broken
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc
    if type(cause).__module__.startswith("psycopg"):
        sqlstate = getattr(cause, "sqlstate", None)
        # No SQLSTATE: the client itself failed (refused, timed out, connection lost).
        return sqlstate is None or sqlstate.startswith(_POSTGRES_CONNECTION_STATES)
    message = str(exc).lower()
    return any(text in message for text in _SQLITE_CONNECTION_MESSAGES)
