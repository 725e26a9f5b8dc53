"""The event broker: wildcard subscriptions (apps.kernel.topics) and a transactional outbox.

`emit` writes the event to the outbox table in the caller's transaction and schedules
delivery for after the commit: a rolled-back transaction delivers nothing. Delivery calls
every matching in-process subscriber; if one fails, the event stays pending and is
delivered again later by `deliver_pending` (at-least-once: subscribers use the event's
idempotency key to ignore repeats). A failing subscriber never breaks the request.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.kernel.models import OutboxEvent
from apps.kernel.topics import Handler, Subscription, TopicTrie, split
from apps.projects.context import Context

logger = logging.getLogger("objectos.events")
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Event:
    topic: str
    payload: dict[str, Any]
    idempotency_key: str
    project: str
    request_id: str
    attempt: int


class EventBroker:
    """Subscriptions of this process plus the durable outbox shared by all processes."""

    def __init__(self) -> None:
        self.topics = TopicTrie()

    def subscribe(self, pattern: str, handler: Handler, name: str = "") -> Subscription:
        return self.topics.subscribe(pattern, handler, name)

    def unsubscribe(self, subscription: Subscription) -> bool:
        return self.topics.unsubscribe(subscription.id)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self.topics.match(topic))

    def emit(self, ctx: Context | None, topic: str, payload: dict[str, Any]) -> OutboxEvent:
        """Store the event in the current transaction; deliver it after commit."""
        split(topic, pattern=False)
        row = OutboxEvent.objects.create(
            project=getattr(ctx, "project_name", "") or "",
            topic=topic,
            payload=payload,
            idempotency_key=uuid.uuid4().hex,
            request_id=getattr(ctx, "request_id", "") or "",
        )
        transaction.on_commit(lambda: self.deliver(row.pk))
        return row

    def deliver(self, event_id: int) -> bool:
        """Run the subscribers of one pending event; True when it is now delivered."""
        row = OutboxEvent.objects.filter(pk=event_id, delivered_at__isnull=True).first()
        if row is None:
            return True
        event = Event(
            row.topic,
            row.payload,
            row.idempotency_key,
            row.project,
            row.request_id,
            row.attempts + 1,
        )
        errors = []
        for subscription in self.topics.match(row.topic):
            try:
                subscription.handler(event)
            except Exception as error:  # noqa: BLE001 - a subscriber must not break others
                logger.exception("subscriber %s failed on %s", subscription.name, row.topic)
                errors.append(f"{subscription.name}: {error}")
        rows = OutboxEvent.objects.filter(pk=row.pk)
        if errors:
            rows.update(attempts=F("attempts") + 1, last_error="; ".join(errors)[:2000])
            return False
        rows.update(attempts=F("attempts") + 1, delivered_at=timezone.now(), last_error="")
        return True

    def deliver_pending(self, limit: int = 100) -> int:
        """Retry undelivered events (oldest first, up to MAX_ATTEMPTS); returns delivered."""
        pending = (
            OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .order_by("id")
            .values_list("pk", flat=True)[:limit]
        )
        return sum(1 for event_id in list(pending) if self.deliver(event_id))


broker = EventBroker()
