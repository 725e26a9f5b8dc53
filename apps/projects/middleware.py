"""Request id in and out, Host -> project routing with a JSON 404 for unknown hosts, and
the request body limit (413) before anything reads the body."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.conf import settings
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


class RequestBodyLimitMiddleware:
    """Refuses a body over OS_MAX_BODY_BYTES by its Content-Length: 413 PAYLOAD_TOO_LARGE.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or a form is read;
    DRF's parsers read the stream and skip that check. A body sent without a length
    (chunked) is capped by the JSON parser (apps.api.parsers). Multipart uploads keep
    Django's own limits (file parts are streamed to disk).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.OS_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit and not request.content_type.startswith("multipart/"):
            return json_error(
                413,
                "PAYLOAD_TOO_LARGE",
                f"the request body is larger than {limit} bytes",
                request.request_id,
            )
        return self.get_response(request)
