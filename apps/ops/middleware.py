"""Request telemetry (metrics and the JSON request log line), the Console's CSP, and the
cookie middlewares that a request authenticated by token alone skips."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessages
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessions
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrf
from django.utils.functional import SimpleLazyObject, empty

from apps.ops.metrics import http_request_duration, http_requests

request_logger = logging.getLogger("objectos.request")

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no view ran: unknown host, body too large, no URL pattern
_GROUP = re.compile(r"\(\?P<(\w+)>")
_route_labels: dict[str, str] = {}


def _template(pattern: str) -> str:
    """`api/v1/data/(?P<object_name>[a-z]{0,62})$` -> `/api/v1/data/<object_name>`."""
    out, position = [], 0
    while (match := _GROUP.search(pattern, position)) is not None:
        out.append(pattern[position : match.start()])
        out.append(f"<{match.group(1)}>")
        depth, index = 1, match.end()
        while index < len(pattern) and depth:
            char = pattern[index]
            if char == "\\":
                index += 1
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            index += 1
        position = index
    out.append(pattern[position:])
    return "/" + "".join(out).replace("^", "").replace("$", "")


def route_label(request: HttpRequest) -> str:
    """The URL pattern that served the request (bounded, unlike the raw path)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return UNMATCHED
    label = _route_labels.get(match.route)
    if label is None:
        label = _route_labels[match.route] = _template(match.route)
    return label


def _user_id(request: HttpRequest) -> int | None:
    """The authenticated user's id, without loading a user nobody asked for."""
    ctx = getattr(request, "os_context", None)
    if ctx is not None and ctx.user is not None:
        return ctx.user_id
    user = request.__dict__.get("user")  # DRF sets the user it authenticated here
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestTelemetryMiddleware:
    """Outermost: times every answer, counts it by route and status, logs one JSON line.

    Exceptions never reach this layer (Django turns them into responses below it), so
    every request is counted and logged exactly once, error answers included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_label(request)
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        status = response.status_code
        http_requests.inc(method, route, str(status))
        http_request_duration.observe(elapsed, route)
        level = logging.ERROR if status >= 500 else logging.INFO
        if request_logger.isEnabledFor(level):
            project = getattr(request, "route", None)
            duration_ms = round(elapsed * 1000, 2)
            request_logger.log(
                level,
                "%s %s %s %sms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "request_id": getattr(request, "request_id", None)
                    or response.get("X-Request-Id"),
                    "project": project.project_name if project is not None else None,
                    "user_id": _user_id(request),
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
        return response


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on the Console's pages (Django 5.2 has none built in)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = settings.CONSOLE_PATH_PREFIX
        self.policy = settings.CONSOLE_CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.prefix) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


# -- the cookie middlewares ----------------------------------------------------------------
API_PREFIX = "/api/v1/"
SESSION_API_PREFIX = "/api/v1/auth/"  # sign-in, sign-out and session use the session itself


def token_only(request: HttpRequest) -> bool:
    """Whether the request is an API call carrying a bearer token or an API key and no
    cookie at all (worked out once per request).

    DRF authenticates such a call by that header, which either succeeds or answers 401:
    the session is never consulted (apps.security.authentication tries the session last,
    and only without those headers). The API views are CSRF-exempt, and without a cookie
    there is no ambient credential to forge a request with. Sessions, CSRF, Django's
    request.user (DRF sets its own) and messages have nothing to do for it, and skipping
    them saves ~60-100 µs a request. The auth routes keep them: signing in starts a
    session whatever headers come along."""
    found = request.__dict__.get("_os_token_only")
    if found is None:
        meta = request.META
        path = request.path_info
        found = request._os_token_only = (
            not meta.get("HTTP_COOKIE")
            and path.startswith(API_PREFIX)
            and not path.startswith(SESSION_API_PREFIX)
            and (
                meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
                or bool(meta.get("HTTP_X_API_KEY"))
            )
        )
    return found


class _CookiesOnly:
    """Runs the Django middleware it is mixed into, except for `token_only` requests."""

    get_response: Callable[[HttpRequest], HttpResponse]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if token_only(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_CookiesOnly, DjangoSessions):
    pass


class CsrfViewMiddleware(_CookiesOnly, DjangoCsrf):
    def process_view(self, request: HttpRequest, callback, callback_args, callback_kwargs):
        if token_only(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(_CookiesOnly, DjangoAuthentication):
    pass


class MessageMiddleware(_CookiesOnly, DjangoMessages):
    pass
