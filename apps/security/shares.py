"""Manual per-record shares (django-guardian grant tables): the scope they add.

Placeholder until the shares work lands: nobody has a manual share.
"""

from __future__ import annotations

from django.db.models import Q

from apps.kernel.kernel import ObjectRuntime
from apps.security.principal import Principal
from apps.security.rules import MATCH_NOTHING


def share_scope(runtime: ObjectRuntime, principal: Principal, level: str) -> Q:
    """Rows shared with the principal at `level` ("read" or "edit") or above."""
    return MATCH_NOTHING
