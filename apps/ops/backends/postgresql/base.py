"""Django's PostgreSQL backend, with the per-request health check skipped for a
connection that served a request without error moments ago.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before the first query
of every request with `SELECT 1`: a round trip, and under load the wait for the GIL
after it, on every request (7% of the GIL's time in an API create, py-spy). A connection
that finished a request without a database error less than
`OS_DB_HEALTH_CHECK_WINDOW` seconds ago (default 1) is taken as alive, as pgbouncer
(`server_check_delay`) and HikariCP (`aliveBypassWindowMs`) do. A connection idle for
longer is checked as before. If the server goes away inside the window, the next
request's first query fails (503 DATABASE_UNAVAILABLE), as one does when it goes away
during a request, and the connection is dropped when that request ends.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proven_at: float | None = None  # when a request last ended on it, no errors
        self._used = False  # a cursor was made since the last request ended

    def create_cursor(self, name=None):
        self._used = True
        return super().create_cursor(name)

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and self.proven_at is not None
            and time.monotonic() - self.proven_at < settings.OS_DB_HEALTH_CHECK_WINDOW
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        """Django's, at the start and at the end of each request; a connection that
        served the request that ends without a database error is proven now."""
        used, self._used = self._used, False
        clean = not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is not None and used and clean:
            self.proven_at = time.monotonic()

    def _close(self) -> None:
        self.proven_at = None
        super()._close()
