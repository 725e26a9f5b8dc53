"""Control-plane keys: what another instance presents to read this one's published artifacts."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

KEY_PREFIX = "oscp_"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ControlKey(models.Model):
    """A key for `/api/v1/control/...`, shown once at creation and stored as its sha256.

    `projects` limits what the key sees (names); an empty list means every project.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    projects = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @staticmethod
    def generate() -> tuple[str, str]:
        """(prefix, full key); the full key is printed once and never stored."""
        prefix = secrets.token_hex(4)
        return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"

    def allows(self, project_name: str) -> bool:
        return not self.projects or project_name in self.projects
