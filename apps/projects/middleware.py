"""Request id in and out, and Host -> project routing with a JSON 404 for unknown hosts."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponse

from apps.projects.context import new_request_id
from apps.projects.hosts import resolve_host

# Paths served without a project (health checks, static files).
PROJECTLESS_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico")


def json_error(status: int, code: str, message: str, request_id: str) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps({"error": message, "code": code}),
        status=status,
        content_type="application/json",
    )
    response["X-Request-Id"] = request_id
    return response


class RequestContextMiddleware:
    """Sets request.request_id and request.route (the project) before anything else runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        request.route = None
        if not request.path.startswith(PROJECTLESS_PREFIXES):
            host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
            route = resolve_host(host)
            if route is None:
                return json_error(
                    404, "PROJECT_NOT_FOUND", f"no project is served at host '{host}'", request_id
                )
            request.route = route
        response = self.get_response(request)
        response["X-Request-Id"] = request_id
        return response
