"""Manual per-record shares (django-guardian grant tables): the scope they add.

A share is one row of the object's grant table (apps.kernel.grants) naming a user and a
guardian permission: `view_<object>` (read) or `change_<object>` (edit). The scope is ONE
subquery on that table, OR-ed by apps.security.access into the read and write scopes.
Grants, revokes and listings go through apps.objectql.shares.
"""

from __future__ import annotations

from django.db.models import Q

from apps.kernel.grants import codenames_for, grant_model
from apps.kernel.kernel import ObjectRuntime
from apps.security.principal import Principal
from apps.security.rules import MATCH_NOTHING


def share_scope(runtime: ObjectRuntime, principal: Principal, level: str) -> Q:
    """Rows shared with the principal at `level` ("read" or "edit") or above.

    Read matches view and change grants, edit only change grants. Objects without a grant
    table (public_read_write, controlled_by_parent) and actors without a user match nothing."""
    grants = grant_model(runtime.model)
    if grants is None or principal.user_id is None:
        return MATCH_NOTHING
    rows = grants._base_manager.filter(
        user_id=principal.user_id,
        permission__codename__in=codenames_for(level, runtime.name),
    )
    # Most people hold no share: then the scope stays a plain owner/rule filter that can
    # use its indexes (an OR with a subquery cannot). The answer is cached with the Access.
    if not rows.exists():
        return MATCH_NOTHING
    return Q(pk__in=rows.values("content_object_id"))
