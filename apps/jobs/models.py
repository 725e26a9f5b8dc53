"""Jobs, their append-only status events, and the registry of worker processes.

A Job is the durable record of one piece of long work; django-q2 only carries deliveries
(`job id, slot, attempt`). The truth about a job is its event list: `status` on the Job is
a cache of what the events say, kept in the same transaction so lists can filter on it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def new_job_id() -> str:
    return uuid.uuid4().hex


class Job(models.Model):
    """One submitted piece of work: what to call, for whom, where it may run."""

    id = models.CharField(primary_key=True, max_length=32, default=new_job_id, editable=False)
    kind = models.CharField(max_length=64)
    func = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    target = models.CharField(max_length=200, default="_any")
    queue = models.CharField(max_length=64, default="default")
    project = models.ForeignKey(
        "os_projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version_id = models.IntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor is rebuilt from these: a job of a deleted user fails, it never runs as system.
    is_system = models.BooleanField(default=False)
    api_key_id = models.IntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    # Set by submitters that may submit the same work twice (a redelivered event): the
    # second submit with the key returns the first job instead of a new one.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    max_attempts = models.PositiveIntegerField(default=3)
    attempts = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=24, default="submitted", db_index=True)
    dead_letter = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "status"], name="os_jobs_project_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def broadcast(self) -> bool:
        """True when deliveries go to named workers (host, label, `_all`), one per worker."""
        return self.target != "_any"


class JobEvent(models.Model):
    """One status change of a job (per worker for targeted jobs). Never updated or deleted."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24)
    worker = models.CharField(max_length=200, blank=True, default="")
    attempt = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.status} {self.worker} #{self.attempt}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("job events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("job events are append-only")


class Worker(models.Model):
    """A worker process (`manage.py worker`) as it last reported itself."""

    class State(models.TextChoices):
        UP = "up"
        DOWN = "down"
        STOPPED = "stopped"

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=253)
    labels = models.JSONField(default=dict)
    pid = models.IntegerField()
    instance = models.CharField(max_length=32)
    queues = models.JSONField(default=list)
    heartbeat_seconds = models.FloatField(default=5.0)
    started_at = models.DateTimeField()
    last_heartbeat = models.DateTimeField()
    facts = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UP)
    state_since = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"
