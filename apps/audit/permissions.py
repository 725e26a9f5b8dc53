"""Who may read a project's audit trail."""

from __future__ import annotations

from apps.projects.context import Context
from apps.security.access import applicable_sets
from apps.security.principal import principal_of

# A permission set's `systemPermissions` naming one of these lets its holders read the trail.
AUDIT_PERMISSIONS = frozenset({"audit.read", "setup.access"})


def may_read_audit(ctx: Context) -> bool:
    """Superusers, and users with a set (assigned or default) granting an audit permission."""
    principal = principal_of(ctx)
    if principal.is_superuser or principal.is_system:
        return True
    return any(
        AUDIT_PERMISSIONS.intersection(permission_set.system_permissions or ())
        for permission_set in applicable_sets(ctx.kernel, principal)
    )
