"""Build the explicit Context of an API request (project, kernel, actor)."""

from __future__ import annotations

from rest_framework.request import Request

from apps.kernel.cache import kernels
from apps.projects.context import Context, current_context
from apps.security.models import ApiKey


def client_ip(request: Request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def request_context(request: Request, *, with_kernel: bool = True) -> Context:
    django_request = request._request
    route = django_request.route
    ctx = getattr(django_request, "os_context", None)
    if ctx is not None:
        return ctx
    auth = request.auth
    ctx = Context(
        request_id=django_request.request_id,
        project_id=route.project_id,
        project_name=route.project_name,
        kernel=kernels.get(route) if with_kernel else None,
        user=request.user if request.user.is_authenticated else None,
        api_key_id=auth.pk if isinstance(auth, ApiKey) else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        budgets=getattr(django_request, "os_budgets", ()),  # apps.kernel.middleware
    )
    django_request.os_context = ctx
    current_context.set(ctx)  # the root of the context tree (reset by the middleware)
    return ctx
