"""GET /api/v1/meta/kernel: the project kernel's extensions, for administrators.

Shows what the micro-kernel runs for this project version: loaded plugins and the ones
that failed (with their error), provided services, registered functions, the number of
event subscriptions and the project's outbox (pending and dead events). Superusers and
sets with `systemPermissions: setup.access` only; others get 403.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.kernel.models import OutboxEvent
from apps.objectql.exceptions import Forbidden
from apps.projects.context import Context
from apps.security.access import applicable_sets
from apps.security.principal import principal_of


def may_inspect_kernel(ctx: Context) -> bool:
    principal = principal_of(ctx)
    if principal.is_superuser or principal.is_system:
        return True
    return any(
        "setup.access" in (permission_set.system_permissions or ())
        for permission_set in applicable_sets(ctx.kernel, principal)
    )


class KernelInfoView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        if not may_inspect_kernel(ctx):
            raise Forbidden("you may not inspect the kernel (setup.access needed)")
        kernel = ctx.kernel
        outbox = OutboxEvent.objects.filter(project=kernel.project_name, delivered_at__isnull=True)
        return Response(
            {
                "project": kernel.project_name,
                "version": kernel.version_number,
                "plugins": list(kernel.plugins),
                "pluginErrors": list(kernel.plugin_errors),
                "services": kernel.services.names(),
                "functions": sorted(kernel.functions),
                "subscriptions": len(kernel.topics),
                "validators": {
                    name: len(runtime.validators)
                    for name, runtime in kernel.objects.items()
                    if runtime.validators
                },
                "outbox": {
                    "pending": outbox.filter(dead_at__isnull=True).count(),
                    "dead": outbox.filter(dead_at__isnull=False).count(),
                },
            }
        )
