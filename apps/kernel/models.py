"""The transactional outbox: events written in the emitting transaction, delivered after."""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    """One emitted event. Delivery marks `delivered_at`; failures count `attempts`."""

    project = models.CharField(max_length=64, blank=True, default="")
    topic = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=64, unique=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "id"])]

    def __str__(self) -> str:
        return f"{self.topic} ({self.idempotency_key})"
