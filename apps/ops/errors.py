"""Django's last-resort handlers as JSON: 404 NOT_FOUND, and 500 INTERNAL_ERROR, or 503
DATABASE_UNAVAILABLE when the unhandled error is a lost database (outside the API, whose
own handler maps it first)."""

from __future__ import annotations

import sys

from django.http import HttpRequest, JsonResponse

from apps.projects.database import (
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_MESSAGE,
    is_database_unavailable,
)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"error": "not found", "code": "NOT_FOUND"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    # Django calls this inside its `except` block: the exception is the current one.
    if is_database_unavailable(sys.exc_info()[1]):
        return JsonResponse(
            {"error": DATABASE_UNAVAILABLE_MESSAGE, "code": DATABASE_UNAVAILABLE}, status=503
        )
    return JsonResponse({"error": "internal error", "code": "INTERNAL_ERROR"}, status=500)
