"""Automation records: flow runs with their node-by-node trace, and stored notifications."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def new_run_id() -> str:
    return uuid.uuid4().hex


class FlowRun(models.Model):
    """One execution of a flow: its variables, where it stands and what each node did.

    A run that pauses (screen, approval, wait, a waiting subflow) keeps the paused node in
    `current_node` and what it waits for in `waiting`; resuming continues from there.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        WAITING = "waiting"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.CharField(primary_key=True, max_length=32, default=new_run_id, editable=False)
    project = models.CharField(max_length=64, db_index=True)
    version_id = models.BigIntegerField(null=True, blank=True)
    flow = models.CharField(max_length=200)
    flow_label = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, blank=True, default="")
    run_as = models.CharField(max_length=16, default="user")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_name = models.CharField(max_length=64, blank=True, default="")
    record_id = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_node = models.CharField(max_length=200, blank=True, default="")
    variables = models.JSONField(default=dict)
    trace = models.JSONField(default=list)
    current_node = models.CharField(max_length=200, blank=True, default="")
    waiting = models.JSONField(null=True, blank=True)
    outputs = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "id"]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["project", "flow", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.id} ({self.status})"


class Notification(models.Model):
    """A message for one user of a project (the `notify` flow node writes these)."""

    class Severity(models.TextChoices):
        INFO = "info"
        SUCCESS = "success"
        WARNING = "warning"
        ERROR = "error"
        CRITICAL = "critical"

    project = models.CharField(max_length=64)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="os_notifications"
    )
    title = models.CharField(max_length=500)
    message = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    topic = models.CharField(max_length=200, blank=True, default="")
    action_url = models.CharField(max_length=500, blank=True, default="")
    source_object = models.CharField(max_length=64, blank=True, default="")
    source_id = models.CharField(max_length=64, blank=True, default="")
    flow_run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    read = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "recipient", "read", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} -> {self.recipient_id}"


# Webhook deliveries live in their own module (the rules engineer owns it).
from apps.automation.models_webhooks import WebhookDelivery  # noqa: E402, F401
