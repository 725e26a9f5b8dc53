"""Request id in and out, Host -> project routing with a JSON 404 for unknown hosts, and
the request body limit (413) before anything reads the body."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import orjson
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from apps.projects.context import current_request_id, new_request_id
from apps.projects.database import (
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_MESSAGE,
    is_database_unavailable,
)
from apps.projects.hosts import resolve_host

logger = logging.getLogger("objectos.database")

# The upload route of media fields (apps.api.files): its body is the file, not JSON.
FILE_UPLOAD_PATH = re.compile(r"^/api/v1/data/[^/]+/[^/]+/files/[^/]+$")
# Paths served without a project (health checks, metrics, the control plane, static files).
PROJECTLESS_PREFIXES = (
    "/healthz", "/readyz", "/metrics", "/api/v1/control/", "/static/", "/favicon.ico",
)  # fmt: skip


def json_error(status: int, code: str, message: str, request_id: str) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps({"error": message, "code": code}),
        status=status,
        content_type="application/json",
    )
    response["X-Request-Id"] = request_id
    return response


class RequestContextMiddleware:
    """Sets request.request_id and request.route (the project) before anything else runs.

    The request id is also `current_request_id` while the request is served, so log records
    carry it. Host resolution is the first database query of a request: when the database
    cannot be reached it answers 503 DATABASE_UNAVAILABLE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        request.route = None
        token = current_request_id.set(request_id)
        try:
            return self._serve(request, request_id)
        finally:
            current_request_id.reset(token)

    def _serve(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if not request.path.startswith(PROJECTLESS_PREFIXES):
            host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
            try:
                route = resolve_host(host)
            except DatabaseError as error:
                if not is_database_unavailable(error):
                    raise
                logger.warning("database unavailable while resolving host %r: %s", host, error)
                return json_error(
                    503, DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE, request_id
                )
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
    Django's own limits (file parts are streamed to disk); file uploads (FILE_UPLOAD_PATH)
    are capped by their field's limit while streamed (apps.api.files).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.OS_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if (
            length > limit
            and not request.content_type.startswith("multipart/")
            and not FILE_UPLOAD_PATH.match(request.path_info)
        ):
            return json_error(
                413,
                "PAYLOAD_TOO_LARGE",
                f"the request body is larger than {limit} bytes",
                request.request_id,
            )
        return self.get_response(request)
