"""What one actor may do with one object: object rights, row scope (a Q) and field sets.

Both the list path and the single-record path use the same `Access.read_scope`, so a
record outside the scope is absent from lists and answers 404 on get/update/delete.
Until permission sets are enforced (security issue), an authenticated project member
may use every object and field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from apps.kernel.kernel import ObjectRuntime
from apps.projects.context import Context


@dataclass(frozen=True)
class Access:
    """The compiled answer for (actor, object)."""

    can_read: bool
    can_create: bool
    can_edit: bool
    can_delete: bool
    can_transfer: bool
    read_scope: Q
    write_scope: Q
    readable: frozenset[str]
    editable: frozenset[str]


def object_access(ctx: Context, runtime: ObjectRuntime) -> Access:
    """Access for the context's actor; cached on the context for the request."""
    cache = ctx.extra.setdefault("access", {})
    access = cache.get(runtime.name)
    if access is None:
        access = _compile(ctx, runtime)
        cache[runtime.name] = access
    return access


def _compile(ctx: Context, runtime: ObjectRuntime) -> Access:
    everything = frozenset(runtime.fields)
    return Access(
        can_read=True,
        can_create=True,
        can_edit=True,
        can_delete=True,
        can_transfer=ctx.is_superuser,
        read_scope=Q(),
        write_scope=Q(),
        readable=everything,
        editable=everything,
    )
