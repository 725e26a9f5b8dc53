"""Bearer token lookup, one query per request (token joined with its user), like the runtime."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from common.models import AuthToken, hash_secret


def user_for_header(header: str) -> Any | None:
    """The active user of `Authorization: Bearer <token>`, or None."""
    if not header.startswith("Bearer "):
        return None
    token = (
        AuthToken.objects.select_related("user")
        .filter(key_hash=hash_secret(header[7:].strip()), revoked_at__isnull=True)
        .first()
    )
    if token is None or token.expires_at <= timezone.now() or not token.user.is_active:
        return None
    return token.user
