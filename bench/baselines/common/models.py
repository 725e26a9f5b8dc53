"""The benchmark table as a static model, and bearer tokens stored by hash like the runtime."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models

STATUSES = ("open", "in_progress", "done")


def new_id() -> str:
    return uuid.uuid4().hex


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Task(models.Model):
    """One task; `owner` drives the row rule, `amount` the field rule."""

    id = models.CharField(max_length=32, primary_key=True, default=new_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="tasks")
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_by = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, default="open", db_index=True,
                              choices=[(s, s) for s in STATUSES])
    priority = models.IntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    done = models.BooleanField(default=False)


class AuthToken(models.Model):
    """A bearer token; only the sha256 of the raw value is kept."""

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="bench_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> str:
        return "bt_" + secrets.token_urlsafe(32)
