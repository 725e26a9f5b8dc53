"""DRF authentication: bearer token, API key and session, each valid for one project only."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.security.models import ApiKey, AuthToken, Membership, hash_secret


def project_id_of(request: Request) -> int | None:
    route = getattr(request._request, "route", None)
    return route.project_id if route is not None else None


def is_member(user: Any, project_id: int | None) -> bool:
    if project_id is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(project_id=project_id, user_id=user.pk).exists()


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` from POST /api/v1/auth/sign-in/email."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        raw = header[7:].strip()
        token = (
            AuthToken.objects.select_related("user")
            .filter(key_hash=hash_secret(raw), revoked_at__isnull=True)
            .first()
        )
        if token is None or token.expires_at <= timezone.now():
            raise AuthenticationFailed("invalid or expired token")
        if token.project_id != project_id_of(request) or not token.user.is_active:
            raise AuthenticationFailed("token is not valid for this project")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key: osk_...` created with `manage.py create_api_key`."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = request.META.get("HTTP_X_API_KEY")
        if not raw:
            return None
        key = (
            ApiKey.objects.select_related("user")
            .filter(key_hash=hash_secret(raw.strip()), revoked_at__isnull=True)
            .first()
        )
        if key is None:
            raise AuthenticationFailed("invalid API key")
        if key.project_id != project_id_of(request) or not key.user.is_active:
            raise AuthenticationFailed("API key is not valid for this project")
        return key.user, key


class ProjectSessionAuthentication(SessionAuthentication):
    """Django session cookie; the user must belong to the request's project."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if not is_member(user, project_id_of(request)):
            raise AuthenticationFailed("not a member of this project")
        return result
