"""Periodic work of the micro-kernel, run by django-q2 (schedule `objectos.outbox`)."""

from __future__ import annotations

from apps.kernel.events import broker


def deliver_pending_events(limit: int = 500) -> dict[str, int]:
    """Retry outbox events whose delivery failed or never happened (their process died
    before delivering), and forget delivered events older than a week."""
    return {"delivered": broker.deliver_pending(limit), "purged": broker.purge_delivered()}
