"""Append-only audit events, hash-chained per project."""

from __future__ import annotations

from django.db import models


class AuditLogImmutable(Exception):
    """Audit rows are never updated or deleted through the application."""


class AuditChainHead(models.Model):
    """The last sequence number and hash of one project's chain; locked while appending."""

    chain = models.CharField(max_length=64, unique=True)  # project name, or "_system"
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")


class AuditEvent(models.Model):
    """One thing that happened: who, where, what, and the hash linking it to the previous row."""

    chain = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    created_at = models.DateTimeField()
    action = models.CharField(max_length=64)
    object_name = models.CharField(max_length=128, blank=True, default="")
    record_id = models.CharField(max_length=64, blank=True, default="")
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_api_key_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=254, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=512, blank=True, default="")
    changes = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        unique_together = [("chain", "seq")]
        indexes = [
            models.Index(fields=["chain", "object_name", "record_id"]),
            models.Index(fields=["chain", "created_at"]),
        ]
        ordering = ["chain", "seq"]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AuditLogImmutable("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("audit events are append-only")
