"""Job functions the tests submit (dotted paths `tests.jobs.tasks.*`); workers import them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from apps.jobs.registry import current_worker_name
from apps.projects.context import Context, current_context


def whoami(ctx: Context, **kwargs) -> dict:
    """The context the worker rebuilt, and who ran it."""
    return {
        "worker": current_worker_name(),
        "pid": os.getpid(),
        "request_id": ctx.request_id,
        "user_id": ctx.user_id,
        "is_system": ctx.is_system,
        "project": ctx.project_name,
        "version": ctx.kernel.version_number if ctx.kernel is not None else None,
        "job_id": ctx.extra.get("job_id"),
        "attempt": ctx.extra.get("attempt"),
        "current_context_is_ctx": current_context.get() is ctx,
        "kwargs": kwargs,
    }


def fail(ctx: Context, message: str = "boom") -> None:
    raise ValueError(message)


def fail_on(ctx: Context, worker: str) -> dict:
    """Fails on the named worker only (partial failure of a broadcast)."""
    if current_worker_name() == worker:
        raise RuntimeError(f"refused on {worker}")
    return {"worker": current_worker_name()}


def not_json(ctx: Context) -> object:
    return object()


def sleepy(ctx: Context, marker: str, seconds: float) -> dict:
    """Writes `marker`, then sleeps `seconds` on the first attempt only."""
    Path(marker).write_text(f"{current_worker_name()} {os.getpid()} {ctx.extra['attempt']}")
    if ctx.extra["attempt"] == 1:
        time.sleep(seconds)
    return {"worker": current_worker_name(), "attempt": ctx.extra["attempt"]}
