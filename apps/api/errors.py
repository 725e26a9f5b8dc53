"""One place mapping every error to HTTP: `{error, code, field?, fields?}`.

Refusals are audited here, once for every route: each 403 FORBIDDEN writes one
`permission.denied` row, and each 401 for a presented credential that is invalid (bad,
expired, revoked or another project's token, key or session) writes one
`auth.invalid_credential` row; anonymous requests without a credential write nothing.
DRF calls this handler after the view's atomic blocks have unwound (ATOMIC_REQUESTS is
off), so the refused change is already rolled back and the row commits on its own.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.context import request_context
from apps.audit import record as audit
from apps.audit.exceptions import InvalidAuditQuery
from apps.kernel.budgets import BudgetExceeded
from apps.kernel.exceptions import NoPublishedVersion, ObjectNotFound
from apps.kernel.services import ServiceError
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.transactions import write_transaction
from apps.projects.database import (
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_MESSAGE,
    is_database_unavailable,
)

logger = logging.getLogger("objectos.database")


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body = {"error": message, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status=status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    response = error_for(exc)
    if response is not None and response.status_code in (401, 403):
        audit_refusal(exc, response, context)
    return response


def error_for(exc: Exception) -> Response | None:
    """The wire answer for `exc`, or None for an unexpected error (a 500)."""
    if isinstance(exc, ObjectQLError):
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, BudgetExceeded):
        exc.owner.release()  # answered: the request may finish its bookkeeping
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, ServiceError):
        logger.error("service error: %s", exc)
        return error_response(exc.status, exc.code, str(exc))
    if isinstance(exc, InvalidAuditQuery):
        return error_response(400, "INVALID_QUERY", exc.message, field=exc.field)
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
    if isinstance(exc, drf.NotAcceptable):
        return error_response(406, "NOT_ACCEPTABLE", "only application/json can be answered")
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response(405, "METHOD_NOT_ALLOWED", str(exc.detail))
    if isinstance(exc, drf.Throttled):
        return error_response(429, "RATE_LIMITED", str(exc.detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return error_response(404, "NOT_FOUND", "not found")
    if isinstance(exc, drf.APIException):
        return error_response(exc.status_code, "BAD_REQUEST", str(exc.detail))
    if is_database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return error_response(503, DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE)
    return None


def _credential_kind(request: Request) -> str:
    """Which credential failed, in the order the authentication classes try them."""
    if request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
        return "bearer"
    if request.META.get("HTTP_X_API_KEY"):
        return "api_key"
    return "session"


def _api_key_prefix(raw: str) -> str:
    """The public prefix of `osk_<prefix>_<secret>` (never the secret part)."""
    parts = raw.strip().split("_")
    return parts[1][:16] if len(parts) >= 3 and parts[0] == "osk" else ""


def audit_refusal(exc: Exception, response: Response, context: dict) -> None:
    """Append the refusal's audit row in a transaction of its own (see the module docstring)."""
    request = context.get("request")
    if response.status_code == 403:
        action = "permission.denied"
    elif isinstance(exc, drf.AuthenticationFailed):
        action = "auth.invalid_credential"
    else:
        return  # 401 without a credential: nothing was presented, nothing to record
    if request is None or getattr(request._request, "route", None) is None:
        return
    body = response.data if isinstance(response.data, dict) else {}
    details = {"error": body.get("error", ""), "method": request.method, "path": request.path}
    if body.get("field") is not None:
        details["field"] = body["field"]
    if body.get("fields") is not None:
        details["fields"] = body["fields"]
    if action == "auth.invalid_credential":
        details["credential"] = _credential_kind(request)
        if details["credential"] == "api_key":
            details["keyPrefix"] = _api_key_prefix(request.META["HTTP_X_API_KEY"])
    ctx = getattr(request._request, "os_context", None) or request_context(
        request, with_kernel=False
    )
    kwargs = context.get("kwargs") or {}
    with write_transaction():
        audit.record(
            ctx,
            action,
            object_name=kwargs.get("object_name", ""),
            record_id=kwargs.get("record_id", ""),
            details=details,
        )
