"""Webhook deliveries: one row per (webhook, event), its attempts and its final state.

A delivery is `pending` until its first attempt, `retrying` after a failed one (next
attempt at `next_attempt_at`), `delivered` after a 2xx answer and `dead` once
`max_attempts` attempts failed or it could not be sent at all (a refused address): the
dead-letter list (`GET /api/v1/webhooks/deliveries?status=dead`), redelivered on request.
"""

from __future__ import annotations

import uuid

from django.db import models


def new_delivery_id() -> str:
    return uuid.uuid4().hex


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        DEAD = "dead"

    id = models.CharField(primary_key=True, max_length=32, default=new_delivery_id, editable=False)
    project = models.CharField(max_length=64)
    webhook = models.CharField(max_length=128)
    topic = models.CharField(max_length=255)
    object_name = models.CharField(max_length=128, blank=True, default="")
    record_id = models.CharField(max_length=64, blank=True, default="")
    # The event's idempotency key plus the webhook: an event redelivered by the outbox
    # finds its delivery instead of making a second one.
    idempotency_key = models.CharField(max_length=200, unique=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=4)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["project", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.webhook} {self.topic} ({self.status})"
