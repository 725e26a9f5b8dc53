"""One place mapping every error to HTTP: `{error, code, field?, fields?}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.kernel.exceptions import NoPublishedVersion, ObjectNotFound
from apps.objectql.exceptions import ObjectQLError


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body = {"error": message, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status=status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ObjectQLError):
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, ObjectNotFound):
        return error_response(404, "OBJECT_NOT_FOUND", str(exc))
    if isinstance(exc, NoPublishedVersion):
        return error_response(
            503, "NO_PUBLISHED_VERSION", f"project '{exc}' has no published artifact version"
        )
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        response = error_response(401, "UNAUTHENTICATED", str(exc.detail))
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        return response
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        return error_response(403, "FORBIDDEN", str(getattr(exc, "detail", exc) or "forbidden"))
    if isinstance(exc, drf.ParseError):
        return error_response(400, "INVALID_JSON", str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return error_response(415, "UNSUPPORTED_MEDIA_TYPE", str(exc.detail))
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response(405, "METHOD_NOT_ALLOWED", str(exc.detail))
    if isinstance(exc, drf.Throttled):
        return error_response(429, "RATE_LIMITED", str(exc.detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return error_response(404, "NOT_FOUND", "not found")
    if isinstance(exc, drf.APIException):
        return error_response(exc.status_code, "BAD_REQUEST", str(exc.detail))
    return None
