"""/api/v1/meta: the live schema of the request's kernel, as the actor may see it."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.kernel.kernel import ObjectRuntime
from apps.security.access import object_access
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS

SKIPPED_FIELD_KEYS = frozenset({"name"})


def describe_object(runtime: ObjectRuntime, readable: frozenset[str]) -> dict[str, Any]:
    definition = runtime.definition
    fields = {}
    for name, field in runtime.fields.items():
        if name not in readable:
            continue
        fields[name] = field.definition.model_dump(
            by_alias=True, exclude_none=True, exclude=SKIPPED_FIELD_KEYS, mode="json"
        )
    return {
        "name": runtime.name,
        "label": definition.label,
        "pluralLabel": definition.plural_label,
        "description": definition.description,
        "icon": definition.icon,
        "displayField": runtime.display_field,
        "sharingModel": definition.sharing_model,
        "systemFields": list(SYSTEM_FIELD_DEFS),
        "fields": fields,
    }


class MetaObjectsView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        objects = []
        for runtime in ctx.kernel.objects.values():
            access = object_access(ctx, runtime)
            if access.can_read:
                objects.append(describe_object(runtime, access.readable))
        return Response({"objects": objects, "version": ctx.kernel.version_number})


class MetaObjectView(APIView):
    def get(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        runtime = ctx.kernel.object(object_name)
        access = object_access(ctx, runtime)
        if not access.can_read:
            from apps.objectql.exceptions import Forbidden

            raise Forbidden(f"you may not read {object_name}")
        return Response(describe_object(runtime, access.readable))
