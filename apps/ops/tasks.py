"""Background tasks of the ops app (run by the django-q2 worker)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.conf import settings

from apps.ops import dbstats
from apps.ops.backup import take_backup
from apps.ops.stores import default_location, open_store, prune

logger = logging.getLogger(__name__)


def scheduled_backup() -> dict[str, Any]:
    """Back up to OS_BACKUP_DIR, then keep only the OS_BACKUP_KEEP newest snapshots there."""
    result = take_backup(default_location())
    removed = prune(open_store(default_location()), settings.OS_BACKUP_KEEP)
    logger.info("backup %s written to %s; pruned %s", result.name, result.location, removed)
    return {"snapshot": result.name, "location": result.location, "removed": removed}


def whoami(n: int) -> dict[str, Any]:
    """Which worker ran this: a probe for checking that jobs spread over the workers
    (README "Scale-out"); `manage.py shell -c "from django_q.tasks import async_task;
    async_task('apps.ops.tasks.whoami', 1)"`."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "n": n}


def refresh_statistics() -> dict[str, Any]:
    """The `objectos.dbstats` schedule: ANALYZE when the database is SQLite."""
    return {"analyzed": dbstats.refresh_statistics()}
