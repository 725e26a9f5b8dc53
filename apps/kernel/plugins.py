"""Plugins (user space): Python modules with `register(kernel)`, loaded into every kernel.

Two sources, in this order: the dotted module paths of settings OS_PLUGINS
(comma-separated, env `OS_PLUGINS`), then the entry points of group `objectos.plugins`
of the installed distributions (an entry point may name a module with `register`, or the
register function itself). `register(kernel)` provides services, subscribes to events,
registers the functions the artifact names and may add validators.

A plugin that fails (import error, no `register`, an exception inside it) is logged with
its error, recorded in `kernel.plugin_errors` (`GET /api/v1/meta/kernel` shows them to
administrators) and disabled: whatever it registered before failing is taken back, and
the other plugins load as usual.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:  # pragma: no cover
    from apps.kernel.kernel import Kernel

logger = logging.getLogger("objectos.plugins")
ENTRY_POINT_GROUP = "objectos.plugins"

_entry_points: list[tuple[str, Callable[[], Any]]] | None = None
_entry_points_lock = threading.Lock()


def configured_plugins() -> list[str]:
    value = getattr(settings, "OS_PLUGINS", "") or ""
    names = value.split(",") if isinstance(value, str) else list(value)
    return [name.strip() for name in names if name.strip()]


def discovered_entry_points(refresh: bool = False) -> list[tuple[str, Callable[[], Any]]]:
    """(name, loader) of the `objectos.plugins` entry points, looked up once per process
    (`refresh=True` looks again, e.g. after installing a distribution)."""
    global _entry_points
    with _entry_points_lock:
        if _entry_points is None or refresh:
            found = entry_points(group=ENTRY_POINT_GROUP)
            _entry_points = [(f"{ep.name} ({ep.value})", ep.load) for ep in found]
        return list(_entry_points)


def _register_of(loaded: Any) -> Callable[[Any], Any]:
    register = getattr(loaded, "register", None)
    if callable(register):
        return register
    if callable(loaded) and not isinstance(loaded, type):
        return loaded
    raise TypeError("the plugin has no register(kernel) function")


def _snapshot(kernel: Kernel) -> dict[str, Any]:
    return {
        "services": kernel.services.providers(),
        "functions": dict(kernel.functions),
        "subscriptions": set(kernel.topics.ids()),
        "validators": {name: list(rt.validators) for name, rt in kernel.objects.items()},
    }


def _restore(kernel: Kernel, snapshot: dict[str, Any]) -> None:
    """Take back what a failed plugin registered."""
    kernel.services.restore(snapshot["services"])
    kernel.functions.clear()
    kernel.functions.update(snapshot["functions"])
    for subscription_id in set(kernel.topics.ids()) - snapshot["subscriptions"]:
        kernel.topics.unsubscribe(subscription_id)
    for name, validators in snapshot["validators"].items():
        kernel.objects[name].validators[:] = validators


def _load_one(kernel: Kernel, name: str, load: Callable[[], Any]) -> None:
    snapshot = _snapshot(kernel)
    try:
        _register_of(load())(kernel)
    except Exception as error:  # noqa: BLE001 - one plugin's failure disables it alone
        _restore(kernel, snapshot)
        message = f"{type(error).__name__}: {error}"
        kernel.plugin_errors.append({"plugin": name, "error": message})
        logger.exception(
            "plugin %s failed to load into %s v%s and is disabled: %s",
            name,
            kernel.project_name,
            kernel.version_number,
            message,
        )
        return
    kernel.plugins.append(name)


def load_plugins(kernel: Kernel) -> None:
    """Register every configured and discovered plugin into `kernel`."""
    for name in configured_plugins():
        _load_one(kernel, name, lambda name=name: importlib.import_module(name))
    for name, load in discovered_entry_points():
        _load_one(kernel, name, load)
