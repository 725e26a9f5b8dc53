"""Projects, their hostnames and their immutable artifact versions."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

PROJECT_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"


class Project(models.Model):
    """A tenant: one app served on its own hostnames, pointing at one published version."""

    name = models.CharField(max_length=31, unique=True)
    label = models.CharField(max_length=200, blank=True, default="")
    published_version = models.ForeignKey(
        "AppVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def table_prefix(self) -> str:
        return f"{self.name}__"


class Domain(models.Model):
    """A hostname (without port) that routes requests to a project."""

    hostname = models.CharField(max_length=253, unique=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="domains")

    def __str__(self) -> str:
        return self.hostname


class AppVersion(models.Model):
    """One loaded artifact of a project. Immutable once published: only status fields move."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PUBLISHED = "published"
        REJECTED = "rejected"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The artifact's JSON text: text, not jsonb, because key order (field order) matters.
    source = models.TextField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    plan = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        unique_together = [("project", "number")]
        ordering = ["project", "number"]

    def __str__(self) -> str:
        return f"{self.project_id}@{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = AppVersion.objects.filter(pk=self.pk).values("source", "sha256").first()
            if stored and (stored["sha256"] != self.sha256 or stored["source"] != self.source):
                raise ValidationError("an artifact version is immutable; load a new version")
        super().save(*args, **kwargs)

    @property
    def artifact(self) -> dict:
        """The artifact as parsed JSON (key order kept)."""
        return orjson.loads(self.source)
