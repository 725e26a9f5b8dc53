"""Bearer token authentication for the DRF baseline (its own module: settings import it)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from common.auth import user_for_header


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        user = user_for_header(header)
        if user is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return user, None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
