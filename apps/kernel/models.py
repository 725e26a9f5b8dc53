"""The transactional outbox: events written in the emitting transaction, delivered after."""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    """One emitted event. Delivery marks `delivered_at`; a failed delivery counts
    `attempts`, keeps the error and waits until `next_attempt_at`; after the broker's
    MAX_ATTEMPTS it is marked `dead_at` and no longer retried (kept for people to see)."""

    project = models.CharField(max_length=64, blank=True, default="")
    topic = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=64, unique=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # When a retry may pick the event up: a grace period after the emit (the emitting
    # process delivers it right after its commit), then the backoff after each failure.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["delivered_at", "id"]),
            models.Index(fields=["next_attempt_at"], name="os_kernel_outbox_retry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.idempotency_key})"
