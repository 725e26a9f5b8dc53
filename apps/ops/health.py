"""`/healthz` (the process answers) and `/readyz` (it can serve: database, migrations,
kernels, broker), both JSON and without authentication.

`/readyz` answers 200 `{"status": "ready", "checks": {name: {"status": "ok", ...}}}` or
503 `{"status": "unavailable", "checks": ...}` where each failed check carries
`"status": "failed"` and a short `reason` (the full error goes to the log with the request
id; bodies name no hosts or credentials). Checks that need the database are `skipped`
while it is down. Other apps may add a check with `register_check`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from apps.kernel.cache import kernels
from apps.kernel.kernel import Kernel
from apps.ops import broker
from apps.projects.models import AppVersion, Project

logger = logging.getLogger("objectos.health")

# Seconds a readiness `SELECT 1` may take on PostgreSQL (connecting is bounded by
# OS_DB_CONNECT_TIMEOUT in settings).
DATABASE_CHECK_TIMEOUT_MS = 2000


@dataclass
class CheckResult:
    """The outcome of one readiness check; `details` are added to its JSON."""

    status: str  # ok | failed | skipped
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.reason:
            body["reason"] = self.reason
        body.update(self.details)
        return body


def ok(**details: Any) -> CheckResult:
    return CheckResult("ok", details=details)


def failed(reason: str, **details: Any) -> CheckResult:
    return CheckResult("failed", reason, details)


DATABASE_DOWN = CheckResult("skipped", "the database is unavailable")

# A check gets the database result (so it can skip) and returns its own.
Check = Callable[[CheckResult], CheckResult]


def _describe(error: BaseException) -> str:
    return type(error).__name__


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive. Touches nothing else, the database least of all."""
    return JsonResponse({"status": "ok"})


def check_database() -> CheckResult:
    """A `SELECT 1` on this thread's connection, bounded by a statement timeout."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {DATABASE_CHECK_TIMEOUT_MS}")
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # SELECT 1 alone does not read the file; the schema page proves it is readable.
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_master")
                cursor.fetchone()
    except Exception as error:
        logger.warning("readiness: database check failed: %s", error)
        return failed(f"database unreachable ({_describe(error)})")
    return ok(vendor=connection.vendor)


_migrations_applied = False


def check_migrations(database: CheckResult) -> CheckResult:
    """No unapplied migration. Loading the graph is costly: a yes is kept for the process."""
    global _migrations_applied
    if _migrations_applied:
        return ok()
    if database.status != "ok":
        return DATABASE_DOWN
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        logger.warning("readiness: migration check failed: %s", error)
        return failed(f"migration state unreadable ({_describe(error)})")
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        return failed(f"{len(names)} unapplied migrations", unapplied=names[:20])
    _migrations_applied = True
    return ok()


# (project, version id) whose kernel was built once in this process: versions are
# immutable, so it stays buildable.
_buildable: set[tuple[str, int]] = set()
_buildable_lock = threading.Lock()


def check_kernels(database: CheckResult) -> CheckResult:
    """Every published version has a kernel: cached, known good, or built now.

    While the cache has room the kernel is built into it (readiness warms it); once it
    is full a kernel is built aside and dropped, so probes never evict hot kernels.
    """
    if database.status != "ok":
        return DATABASE_DOWN
    published = list(
        Project.objects.filter(published_version__isnull=False)
        .order_by("name")
        .values_list("name", "published_version_id")
    )
    broken = []
    for name, version_id in published:
        key = (name, version_id)
        if key in _buildable or kernels.contains(name, version_id):
            continue
        try:
            if len(kernels) < kernels.size:
                kernels.get_version(name, version_id)
            else:
                version = AppVersion.objects.only("number", "source").get(pk=version_id)
                Kernel.from_raw(name, version_id, version.number, version.artifact)
        except Exception as error:
            logger.warning("readiness: kernel of %s version id %s: %s", name, version_id, error)
            broken.append(f"{name}: {_describe(error)}: {str(error)[:200]}")
            continue
        with _buildable_lock:
            _buildable.add(key)
    if broken:
        return failed(f"{len(broken)} kernels cannot be built", projects=broken)
    return ok(projects=len(published))


def check_broker(database: CheckResult) -> CheckResult:
    """The ORM broker is the database; Redis answers PING."""
    if broker.broker_kind() == "orm":
        if database.status != "ok":
            return failed("the ORM broker is the database, which is unavailable", broker="orm")
        return ok(broker="orm")
    try:
        broker.ping_redis()
    except Exception as error:
        logger.warning("readiness: redis broker check failed: %s", error)
        return failed(f"redis unreachable ({_describe(error)})", broker="redis")
    return ok(broker="redis")


_checks: dict[str, Check] = {
    "migrations": check_migrations,
    "kernels": check_kernels,
    "broker": check_broker,
}


def register_check(name: str, check: Check) -> None:
    """Add (or replace) a readiness check; it runs after the database check."""
    _checks[name] = check


def readiness() -> tuple[bool, dict[str, dict[str, Any]]]:
    database = check_database()
    results = {"database": database}
    for name, check in _checks.items():
        try:
            results[name] = check(database)
        except Exception as error:  # a broken check must not break the probe
            logger.exception("readiness check %s raised", name)
            results[name] = failed(f"check raised {_describe(error)}")
    ready = all(result.status == "ok" for result in results.values())
    return ready, {name: result.as_json() for name, result in results.items()}


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    ready, checks = readiness()
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
