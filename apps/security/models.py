"""Who may use a project: memberships, bearer tokens and API keys (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from apps.projects.models import Project


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Membership(models.Model):
    """A user's place in a project: permission sets and positions by name (from the artifact)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="os_memberships"
    )
    permission_sets = models.JSONField(default=list, blank=True)
    positions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("project", "user")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}"


class AuthToken(models.Model):
    """A bearer token from sign-in, bound to one project; only its hash is kept."""

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="os_tokens"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> str:
        return "ost_" + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """A long-lived key for machines, bound to one project and acting as one user."""

    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="os_api_keys"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> tuple[str, str]:
        """(prefix, full key); the full key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        return prefix, f"osk_{prefix}_{secrets.token_urlsafe(32)}"


class PositionGrant(models.Model):
    """A permission set every holder of a position gets (positions carry no sets in the
    artifact; this binding is the project's own, like a membership)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    position = models.CharField(max_length=100)
    permission_set = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("project", "position", "permission_set")]

    def __str__(self) -> str:
        return f"{self.position} -> {self.permission_set}"
