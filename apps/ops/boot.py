"""Boot modes, detected from the environment (README "Boot modes"):

- standalone (no variables): serves what the database has published; `manage.py boot`
  loads the demo from fixtures/ on a first start;
- file-backed (`OS_ARTIFACT_FILE`, with `OS_PROJECT`, `OS_HOSTS`): apps.ops.filewatch;
- cloud-connected (`OS_CLOUD_URL` + `OS_CLOUD_API_KEY`): apps.ops.cloud.

`boot_once()` is one synchronous step (`manage.py boot`, run by `make run` before serving);
`start_watcher()` starts, once per web process, the daemon thread that repeats it every
`OS_ARTIFACT_POLL_SECONDS` (file) or `OS_CLOUD_POLL_SECONDS` (cloud); objectos_site.wsgi
and asgi call it, so gunicorn workers and runserver watch while migrate, tests and other
commands do not. `mode_status()` is what the process last saw; /readyz shows it under
the `boot` check. Nothing here calls anywhere but the configured control plane.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connection

from apps.ops.cloud import CloudSource
from apps.ops.exceptions import BootConfigError
from apps.ops.filewatch import FileSource
from apps.ops.health import CheckResult, failed, ok
from apps.projects.models import PROJECT_NAME_PATTERN

logger = logging.getLogger("objectos.boot")

STANDALONE, FILE, CLOUD = "standalone", "file", "cloud"


class Source(Protocol):
    mode: str
    poll_seconds: float

    def sync(self, *, wait: bool = False) -> bool: ...

    def status(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class BootConfig:
    """The boot-mode settings, checked (`load_config`)."""

    mode: str
    artifact_file: str = ""
    project: str = ""
    hosts: tuple[str, ...] = ()
    artifact_poll_seconds: float = 2.0
    cloud_url: str = ""
    cloud_api_key: str = ""
    cloud_poll_seconds: float = 30.0


def load_config() -> BootConfig:
    """The mode and its settings; BootConfigError names what is wrong."""
    artifact_file = settings.OS_ARTIFACT_FILE
    cloud_url, cloud_key = settings.OS_CLOUD_URL, settings.OS_CLOUD_API_KEY
    if artifact_file and cloud_url:
        raise BootConfigError("set OS_ARTIFACT_FILE or OS_CLOUD_URL, not both")
    if cloud_key and not cloud_url:
        raise BootConfigError("OS_CLOUD_API_KEY is set but OS_CLOUD_URL is not")
    project = settings.OS_PROJECT
    if project and not re.match(PROJECT_NAME_PATTERN, project):
        raise BootConfigError(
            f"OS_PROJECT '{project}' is not a project name (a-z, 0-9, _; at most 31)"
        )
    for name in ("OS_ARTIFACT_POLL_SECONDS", "OS_CLOUD_POLL_SECONDS"):
        if getattr(settings, name) <= 0:
            raise BootConfigError(f"{name} must be positive")
    if artifact_file:
        return BootConfig(
            FILE,
            artifact_file=artifact_file,
            project=project,
            hosts=tuple(settings.OS_HOSTS),
            artifact_poll_seconds=settings.OS_ARTIFACT_POLL_SECONDS,
        )
    if cloud_url:
        parts = urllib.parse.urlsplit(cloud_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BootConfigError("OS_CLOUD_URL must be an http:// or https:// URL")
        if not cloud_key:
            raise BootConfigError("OS_CLOUD_URL is set but OS_CLOUD_API_KEY is not")
        return BootConfig(
            CLOUD,
            cloud_url=cloud_url,
            cloud_api_key=cloud_key,
            cloud_poll_seconds=settings.OS_CLOUD_POLL_SECONDS,
        )
    return BootConfig(STANDALONE)


def make_source(config: BootConfig) -> Source | None:
    if config.mode == FILE:
        return FileSource(
            config.artifact_file, config.project, list(config.hosts), config.artifact_poll_seconds
        )
    if config.mode == CLOUD:
        return CloudSource(
            config.cloud_url, config.cloud_api_key, settings.OS_CACHE_DIR, config.cloud_poll_seconds
        )
    return None


_lock = threading.Lock()
_source: Source | None = None
_config_error = ""
_thread: threading.Thread | None = None
_stop = threading.Event()


def current_source() -> Source | None:
    """This process's source (created on first use), None in standalone mode.

    Raises BootConfigError when the variables are wrong (and remembers it for
    `mode_status`)."""
    global _source, _config_error
    with _lock:
        if _source is not None:
            return _source
        try:
            config = load_config()
        except BootConfigError as error:
            _config_error = str(error)
            raise
        _config_error = ""
        _source = make_source(config)
        return _source


def boot_once(*, wait: bool = True) -> dict[str, Any]:
    """One synchronous boot step of the detected mode; returns `mode_status()`."""
    source = current_source()
    if source is not None:
        source.sync(wait=wait)
    return mode_status()


def mode_status() -> dict[str, Any]:
    """The mode and what this process last made of its source (no paths, URLs or keys)."""
    if _config_error:
        return {"mode": "misconfigured", "error": _config_error}
    source = _source
    if source is None:
        try:
            mode = load_config().mode
        except BootConfigError as error:
            return {"mode": "misconfigured", "error": str(error)}
        if mode == STANDALONE:
            return {"mode": STANDALONE}
        return {"mode": mode, "state": "not started"}
    status = source.status()
    status["watching"] = _thread is not None and _thread.is_alive()
    return status


def readiness_check(database: CheckResult) -> CheckResult:
    """The `boot` check of /readyz: the mode status as details. Serving from the cache
    while the control plane is unreachable is still ready; a misconfiguration is not."""
    status = mode_status()
    if status["mode"] == "misconfigured":
        return failed(f"boot mode misconfigured: {status['error']}", **status)
    return ok(**status)


def start_watcher() -> bool:
    """Start this process's watcher thread (file-backed and cloud modes); idempotent.

    True when a thread was started. A misconfiguration is logged and shown by /readyz."""
    global _thread
    try:
        source = current_source()
    except BootConfigError as error:
        logger.error("boot: %s; nothing is watched", error)
        return False
    with _lock:
        if source is None or (_thread is not None and _thread.is_alive()):
            return False
        _stop.clear()
        _thread = threading.Thread(
            target=_watch, args=(source, _stop), name="objectos-boot", daemon=True
        )
        _thread.start()
    logger.info("boot: watching (%s mode, every %ss)", source.mode, source.poll_seconds)
    return True


def _watch(source: Source, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            source.sync(wait=False)
        except Exception:  # the watcher must outlive any one bad poll
            logger.exception("boot: %s sync failed", source.mode)
        finally:
            connection.close()  # this thread's connection; a new one next poll
        stop.wait(source.poll_seconds)


def stop_watcher(timeout: float = 10.0) -> None:
    """Stop the watcher thread (tests, shutdown) and wait for it."""
    global _thread
    _stop.set()
    thread = _thread
    if thread is not None:
        thread.join(timeout)
    _thread = None


def reset() -> None:
    """Forget this process's source and status, as a restarted process would (tests)."""
    global _source, _config_error
    stop_watcher()
    with _lock:
        _source = None
        _config_error = ""
