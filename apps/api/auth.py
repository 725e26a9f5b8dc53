"""Sign-in with email and password -> bearer token bound to the request's project."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import client_ip
from apps.audit import record as audit
from apps.objectql.exceptions import ValidationFailed
from apps.projects.context import Context
from apps.security.authentication import credentials, is_member
from apps.security.models import AuthToken, hash_secret


def user_body(user) -> dict:
    name = f"{user.first_name} {user.last_name}".strip() or user.username
    return {"id": user.pk, "email": user.email, "name": name}


class SignInEmailView(APIView):
    """POST /api/v1/auth/sign-in/email {email, password} -> {token, user}."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object")
        problems = [
            {"field": name, "code": "required", "message": f"{name} is required"}
            for name in ("email", "password")
            if not isinstance(body.get(name), str) or not body.get(name)
        ]
        if problems:
            raise ValidationFailed("validation failed", fields=problems)
        route = request._request.route
        ctx = Context(
            request_id=request._request.request_id,
            project_id=route.project_id,
            project_name=route.project_name,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        email = body["email"].strip().lower()
        attempts = f"os:sign-in:{route.project_id}:{ctx.ip}:{email}"
        if cache.get(attempts, 0) >= settings.OS_SIGN_IN_MAX_FAILURES:
            audit.record(ctx, "auth.sign_in_throttled", details={"email": email})
            response = Response(
                {"error": "too many failed sign-ins; try again later", "code": "RATE_LIMITED"},
                status=429,
            )
            response["Retry-After"] = str(settings.OS_SIGN_IN_WINDOW_SECONDS)
            return response
        user = authenticate(request._request, username=email, password=body["password"])
        if user is None or not is_member(user, route.project_id):
            audit.record(ctx, "auth.sign_in_failed", details={"email": email})
            cache.add(attempts, 0, settings.OS_SIGN_IN_WINDOW_SECONDS)
            cache.incr(attempts)
            return Response(
                {"error": "invalid email or password", "code": "UNAUTHENTICATED"}, status=401
            )
        cache.delete(attempts)
        raw = AuthToken.generate()
        expires = timezone.now() + timedelta(seconds=settings.OS_TOKEN_TTL_SECONDS)
        AuthToken.objects.create(
            key_hash=hash_secret(raw), user=user, project_id=route.project_id, expires_at=expires
        )
        login(request._request, user)  # also a session cookie, for browsers and the Console
        ctx.user = user
        audit.record(ctx, "auth.sign_in", details={"method": "email"})
        return Response({"token": raw, "expiresAt": expires, "user": user_body(user)})


class SignOutView(APIView):
    """POST /api/v1/auth/sign-out revokes the bearer token used for the request."""

    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            AuthToken.objects.filter(pk=request.auth.pk).update(revoked_at=timezone.now())
            credentials.forget(request.auth.key_hash)
        logout(request._request)
        return Response({"success": True})


class SessionView(APIView):
    """GET /api/v1/auth/session: who am I."""

    def get(self, request: Request) -> Response:
        return Response({"user": user_body(request.user)})
