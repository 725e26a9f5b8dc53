"""Jobs: long work run by django-q2 workers, recorded as append-only status events.

`submit(ctx, func, kwargs, *, kind, target="_any", max_attempts=3, queue="default")`
is the one entry point (see apps.jobs.submission); imported lazily so that importing this
package never touches models before the app registry is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.jobs.models import Job
    from apps.projects.context import Context


def submit(
    ctx: Context,
    func: str,
    kwargs: dict[str, Any],
    *,
    kind: str,
    target: str = "_any",
    max_attempts: int = 3,
    queue: str = "default",
    idempotency_key: str | None = None,
) -> Job:
    from apps.jobs.submission import submit as _submit

    return _submit(
        ctx,
        func,
        kwargs,
        kind=kind,
        target=target,
        max_attempts=max_attempts,
        queue=queue,
        idempotency_key=idempotency_key,
    )
