"""Host header -> project routing, cached per process for OS_HOST_CACHE_TTL seconds."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from apps.projects.models import Domain, Project


@dataclass(frozen=True)
class ProjectRoute:
    """What a request needs to find its kernel: the project and its published version."""

    project_id: int
    project_name: str
    published_version_id: int | None


_cache: dict[str, tuple[float, ProjectRoute | None]] = {}
_lock = threading.Lock()


def normalise_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def resolve_host(host: str) -> ProjectRoute | None:
    """The route for a hostname, or None when no project is served there."""
    hostname = normalise_host(host)
    now = time.monotonic()
    cached = _cache.get(hostname)
    if cached is not None and now - cached[0] < settings.OS_HOST_CACHE_TTL:
        return cached[1]
    route = _lookup(hostname)
    with _lock:
        _cache[hostname] = (now, route)
    return route


def _lookup(hostname: str) -> ProjectRoute | None:
    row = (
        Domain.objects.filter(hostname=hostname)
        .values_list("project_id", "project__name", "project__published_version_id")
        .first()
    )
    if row is None and settings.OS_DEFAULT_PROJECT:
        row = (
            Project.objects.filter(name=settings.OS_DEFAULT_PROJECT)
            .values_list("id", "name", "published_version_id")
            .first()
        )
    return ProjectRoute(*row) if row else None


def invalidate() -> None:
    """Forget every cached route (after a publish or a domain change in this process)."""
    with _lock:
        _cache.clear()
