"""DRF authentication: bearer token, API key and session, each valid for one project only."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
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


class CredentialCache:
    """Valid tokens and keys by hash, kept for OS_AUTH_CACHE_TTL seconds.

    Looking a credential up costs more than the rest of a warm GET; a revocation or sign-out
    in this process forgets the entry at once, other processes within the TTL.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Any:
        entry = self._entries.get(key_hash)
        if entry is None or time.monotonic() - entry[0] >= settings.OS_AUTH_CACHE_TTL:
            return None
        return entry[1]

    def put(self, key_hash: str, credential: Any) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic(), credential)

    def forget(self, key_hash: str) -> None:
        with self._lock:
            self._entries.pop(key_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


credentials = CredentialCache()


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` from POST /api/v1/auth/sign-in/email."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        key_hash = hash_secret(header[7:].strip())
        token = credentials.get(key_hash)
        if token is None:
            token = (
                AuthToken.objects.select_related("user")
                .filter(key_hash=key_hash, revoked_at__isnull=True)
                .first()
            )
            if token is not None:
                credentials.put(key_hash, token)
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
        key_hash = hash_secret(raw.strip())
        key = credentials.get(key_hash)
        if key is None:
            key = (
                ApiKey.objects.select_related("user")
                .filter(key_hash=key_hash, revoked_at__isnull=True)
                .first()
            )
            if key is not None:
                credentials.put(key_hash, key)
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
