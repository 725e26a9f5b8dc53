"""Kernel build hooks: how upper apps attach compiled things to a kernel.

The kernel sits below automation, api and console, so it cannot import them. An upper
app registers a hook once (in its AppConfig.ready()):

    from apps.kernel.extensions import on_kernel_build

    @on_kernel_build
    def attach_validation_rules(kernel):
        for runtime in kernel.objects.values():
            runtime.validators.append(...)

Every Kernel calls every registered hook at the end of its build, in registration order,
then loads the plugins (apps.kernel.plugins). A failing hook fails the build: these are
the runtime's own compilers (validation rules, flows), and a kernel without them would
serve writes they were meant to refuse. Plugins, user code, fail alone instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from apps.kernel.kernel import Kernel

BuildHook = Callable[["Kernel"], None]

_hooks: list[BuildHook] = []
_lock = threading.Lock()


def on_kernel_build(fn: BuildHook) -> BuildHook:
    """Register `fn(kernel)` to run at the end of every kernel build (idempotent; usable
    as a decorator). Kernels built before the registration are not revisited."""
    with _lock:
        if fn not in _hooks:
            _hooks.append(fn)
    return fn


def remove_build_hook(fn: BuildHook) -> bool:
    """Unregister `fn` (tests); True when it was registered."""
    with _lock:
        if fn in _hooks:
            _hooks.remove(fn)
            return True
    return False


def run_build_hooks(kernel: Kernel) -> None:
    for hook in list(_hooks):
        hook(kernel)
