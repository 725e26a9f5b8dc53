"""GET /api/v1/security/explain: why a user can or cannot see or edit a record (admins only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.objectql.exceptions import Forbidden, InvalidQuery
from apps.security.access import applicable_sets, compile_access
from apps.security.principal import principal_for, principal_of
from apps.security.rules import MATCH_ALL

ADMIN_PERMISSIONS = frozenset({"setup.access", "security.explain"})


def is_security_admin(ctx) -> bool:
    principal = principal_of(ctx)
    if principal.is_superuser or principal.is_system:
        return True
    return any(
        ADMIN_PERMISSIONS & set(ps.system_permissions or ())
        for ps in applicable_sets(ctx.kernel, principal)
    )


def _user(project_id: int, value: str | None, default: Any) -> Any:
    if not value:
        return default
    users = get_user_model()._base_manager
    user = (
        users.filter(pk=int(value)).first()
        if value.isdigit()
        else users.filter(username=value.strip().lower()).first()
    )
    if user is None:
        raise InvalidQuery(f"no user '{value}'", field="user")
    return user


class ExplainView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        if not is_security_admin(ctx):
            raise Forbidden("only security administrators may explain access")
        object_name = request.query_params.get("object")
        if not object_name:
            raise InvalidQuery("object is required", field="object")
        runtime = ctx.kernel.object(object_name)
        user = _user(ctx.project_id, request.query_params.get("user"), ctx.user)
        principal = principal_for(ctx.project_id, user)
        access = compile_access(ctx.kernel, runtime, principal)
        body: dict[str, Any] = {
            "object": object_name,
            "user": {
                "id": principal.user_id,
                "email": principal.email,
                "superuser": principal.is_superuser,
            },
            "permissionSets": sorted(ps.name for ps in applicable_sets(ctx.kernel, principal)),
            "positions": sorted(principal.positions),
            "objectPermissions": {
                "read": access.can_read,
                "create": access.can_create,
                "edit": access.can_edit,
                "delete": access.can_delete,
                "transfer": access.can_transfer,
            },
            "fields": {
                "readable": sorted(access.readable),
                "hidden": sorted(set(runtime.fields) - access.readable),
                "editable": sorted(access.editable),
            },
            "reasons": list(access.reasons),
        }
        record_id = request.query_params.get("id")
        if record_id:
            rows = runtime.model._base_manager.filter(pk=record_id)
            row = rows.values("owner_id").first()
            visible = (
                row is not None
                and access.can_read
                and (access.read_scope is MATCH_ALL or rows.filter(access.read_scope).exists())
            )
            editable = (
                visible
                and access.can_edit
                and (access.write_scope is MATCH_ALL or rows.filter(access.write_scope).exists())
            )
            body["record"] = {
                "id": record_id,
                "exists": row is not None,
                "ownerId": row["owner_id"] if row else None,
                "isOwner": bool(row) and row["owner_id"] == principal.user_id,
                "canRead": visible,
                "canEdit": editable,
                "canDelete": editable and access.can_delete,
            }
        return Response(body)
