"""What a web process does once, after Django is set up and before it serves.

- Holds the server lock `manage.py restore` checks (apps.ops.serverlock).
- Starts the artifact watcher of the file-backed and cloud-connected boot modes.
- Imports the URLconf (every view module) now rather than on the first request.
- Refreshes SQLite's query planner statistics (apps.ops.dbstats): rows loaded while no
  server ran (a restore, an import, a bulk load) are planned for from the first request.
- Freezes the garbage collector's view of everything loaded so far (`gc.freeze`): Django,
  DRF and the project's modules are never garbage, yet every full collection walked them;
  after the freeze a full collection walks only what requests and kernels allocate. Under
  load this took the collector's share of a warm request from 30-120 µs to ~35 µs and
  removes the long full-collection pauses from the p99 (bench/runner/profile_writes
  reports the collector's time per request). Kernels are built later and stay
  collectable, so an evicted kernel is freed. `OS_GC_FREEZE=0` turns the freeze off.
  The collector is off until then (objectos_site.wsgi): the imports make nothing to
  collect, and walking what they made took ~10% of the startup.
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings
from django.db import DatabaseError, connections
from django.urls import get_resolver

from apps.ops.boot import start_watcher
from apps.ops.dbstats import refresh_statistics
from apps.ops.serverlock import hold_server_lock


def prepare_server_process() -> None:
    hold_server_lock()
    start_watcher()
    get_resolver().url_patterns  # noqa: B018 - imports every view module now
    _refresh_statistics()
    if settings.OS_GC_FREEZE:
        # No gc.collect() first: after startup it found ~20 unreachable objects and took
        # ~40 ms of the cold start, walking the ~100,000 objects the freeze spares later.
        gc.freeze()
    gc.enable()  # objectos_site.wsgi turned the collector off for the imports


def _refresh_statistics() -> None:
    try:
        refresh_statistics()
    except DatabaseError as error:  # a locked or read-only database must not stop a server
        logging.getLogger("objectos.boot").warning("planner statistics not refreshed: %s", error)
    finally:
        connections.close_all()  # this thread serves no request: give its connection back
