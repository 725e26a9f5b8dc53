"""Who is asking, as the rules see it: user, email, permission sets and positions."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from apps.projects.context import Context
from apps.security.models import Membership, PositionGrant


@dataclass(frozen=True)
class Principal:
    """The actor of one request inside one project."""

    user_id: int | None
    email: str
    name: str
    permission_sets: frozenset[str]
    positions: frozenset[str]
    is_superuser: bool
    is_system: bool

    def variables(self) -> dict[str, Any]:
        """Constants for rule expressions: current_user.*, os.user.*, user.*."""
        user = {
            "id": self.user_id,
            "email": self.email,
            "name": self.name,
            "positions": sorted(self.positions),
            "permission_sets": sorted(self.permission_sets),
        }
        return {"current_user": user, "user": user, "os": {"user": user}, "$user": user}


_cache: dict[tuple[int, int], tuple[float, tuple[frozenset[str], frozenset[str]]]] = {}
_lock = threading.Lock()


def _membership(project_id: int, user_id: int) -> tuple[frozenset[str], frozenset[str]]:
    key = (project_id, user_id)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < settings.OS_AUTH_CACHE_TTL:
        return cached[1]
    row = (
        Membership.objects.filter(project_id=project_id, user_id=user_id)
        .values_list("permission_sets", "positions")
        .first()
    )
    if row is None:
        value: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    else:
        sets, positions = set(row[0] or ()), frozenset(row[1] or ())
        if positions:  # sets granted to the positions the user holds
            sets.update(
                PositionGrant.objects.filter(
                    project_id=project_id, position__in=positions
                ).values_list("permission_set", flat=True)
            )
        value = (frozenset(sets), positions)
    with _lock:
        _cache[key] = (time.monotonic(), value)
    return value


def forget_memberships() -> None:
    with _lock:
        _cache.clear()


def principal_for(project_id: int | None, user: Any, is_system: bool = False) -> Principal:
    """The principal of `user` (None: nobody, or the system) in one project."""
    sets: frozenset[str] = frozenset()
    positions: frozenset[str] = frozenset()
    if user is not None and project_id is not None:
        sets, positions = _membership(project_id, user.pk)
    return Principal(
        user_id=user.pk if user is not None else None,
        email=(getattr(user, "email", "") or "") if user is not None else "",
        name=(user.get_full_name() or user.get_username()) if user is not None else "system",
        permission_sets=sets,
        positions=positions,
        is_superuser=bool(getattr(user, "is_superuser", False)),
        is_system=is_system,
    )


def principal_of(ctx: Context) -> Principal:
    """The context's principal, computed once per request."""
    principal = ctx.extra.get("principal")
    if principal is None:
        principal = principal_for(ctx.project_id, ctx.user, ctx.is_system)
        ctx.extra["principal"] = principal
    return principal


def project_users(project_id: int | None) -> Q:
    """Users who belong to the project (its members and the superusers): the only users a
    plain actor may reference or see expanded; users of other projects are not there."""
    members = Membership.objects.filter(project_id=project_id).values("user_id")
    return Q(pk__in=members) | Q(is_superuser=True)
