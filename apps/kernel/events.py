"""The event broker: wildcard subscriptions (apps.kernel.topics) and a transactional outbox.

`emit` writes the event to the outbox table in the caller's transaction and schedules
delivery for after the commit: a rolled-back transaction delivers nothing. Delivery calls
the matching subscribers of the event's project kernel (`kernel.subscribe`, so project
A's subscribers never see project B's events) and of this broker (process-wide, every
project; `event.project` says which). If one fails, the event stays pending and is
delivered again later by `deliver_pending` (a django-q2 schedule, apps.ops.schedules)
with exponential backoff; after MAX_ATTEMPTS it is marked dead. Delivery is
at-least-once: subscribers use `event.idempotency_key` to ignore repeats. A failing
subscriber never breaks the request that emitted the event.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.kernel.budgets import activate
from apps.kernel.models import OutboxEvent
from apps.kernel.topics import Handler, Subscription, TopicTrie, split
from apps.projects.context import Context

logger = logging.getLogger("objectos.events")
MAX_ATTEMPTS = 10
# A fresh event belongs to the process that emitted it for this long (it delivers right
# after its commit); only then may a retry pick it up.
GRACE = timedelta(seconds=30)
RETRY_LEASE = timedelta(minutes=5)  # a retry claims the event for this long
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 3600
KEEP_DELIVERED = timedelta(days=7)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts + 1`: 10 s, 20 s, 40 s ... at most an hour."""
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    )


@dataclass(frozen=True)
class Event:
    """What a subscriber receives. `context` is the child context the delivery runs in
    (same request id and actor as the emitter; a system context on retries)."""

    topic: str
    payload: dict[str, Any]
    idempotency_key: str
    project: str
    request_id: str
    attempt: int
    context: Context | None = None


class EventBroker:
    """Process-wide subscriptions plus the durable outbox shared by all processes."""

    def __init__(self) -> None:
        self.topics = TopicTrie()

    def subscribe(self, pattern: str, handler: Handler, name: str = "") -> Subscription:
        return self.topics.subscribe(pattern, handler, name)

    def unsubscribe(self, subscription: Subscription) -> bool:
        return self.topics.unsubscribe(subscription.id)

    def has_subscribers(self, topic: str) -> bool:
        return len(self.topics) > 0 and bool(self.topics.match(topic))

    def emit(self, ctx: Context | None, topic: str, payload: dict[str, Any]) -> OutboxEvent:
        """Store the event in the current transaction; deliver it after commit."""
        split(topic, pattern=False)
        row = OutboxEvent.objects.create(
            project=getattr(ctx, "project_name", "") or "",
            topic=topic,
            payload=payload,
            idempotency_key=uuid.uuid4().hex,
            request_id=getattr(ctx, "request_id", "") or "",
            next_attempt_at=timezone.now() + GRACE,
        )
        transaction.on_commit(lambda: self._deliver_after_commit(row.pk, ctx), robust=True)
        return row

    def _deliver_after_commit(self, event_id: int, ctx: Context | None) -> None:
        try:
            self.deliver(event_id, ctx)
        except Exception:  # the emitting request must not fail: a retry will deliver
            logger.exception("delivery of event %s failed; it will be retried", event_id)

    def subscribers(self, topic: str, project: str, kernel: Any = None) -> list[Subscription]:
        """Matching subscriptions: the project kernel's, then this broker's."""
        found: list[Subscription] = []
        if project:
            kernel = kernel if kernel is not None else _project_kernel(project)
            if kernel is not None and len(kernel.topics):
                found.extend(kernel.topics.match(topic))
        if len(self.topics):
            found.extend(self.topics.match(topic))
        return found

    def deliver(self, event_id: int, ctx: Context | None = None) -> bool:
        """Run the subscribers of one pending event; True when it is now delivered.
        `ctx` is the emitter's context (in-process delivery); retries pass none."""
        row = OutboxEvent.objects.filter(
            pk=event_id, delivered_at__isnull=True, dead_at__isnull=True
        ).first()
        if row is None:
            return True
        kernel = getattr(ctx, "kernel", None)
        if kernel is not None and kernel.project_name != row.project:
            kernel = None
        parent = ctx if ctx is not None else _retry_context(row, kernel)
        delivery_ctx = parent.fork() if parent is not None else None
        if delivery_ctx is not None:
            kernel = kernel or delivery_ctx.kernel
        event = Event(
            row.topic,
            row.payload,
            row.idempotency_key,
            row.project,
            row.request_id,
            row.attempts + 1,
            delivery_ctx,
        )
        errors = []
        for subscription in self.subscribers(row.topic, row.project, kernel):
            try:
                if delivery_ctx is None:
                    subscription.handler(event)
                else:
                    with activate(delivery_ctx):
                        subscription.handler(event)
            except Exception as error:  # noqa: BLE001 - a subscriber must not break others
                logger.exception(
                    "subscriber %s failed on %s (context %s)",
                    subscription.name,
                    row.topic,
                    getattr(delivery_ctx, "context_id", ""),
                )
                errors.append(f"{subscription.name}: {error}")
        rows = OutboxEvent.objects.filter(pk=row.pk)
        now = timezone.now()
        if errors:
            attempts = row.attempts + 1
            rows.update(
                attempts=F("attempts") + 1,
                last_error="; ".join(errors)[:2000],
                next_attempt_at=now + backoff(attempts),
                dead_at=now if attempts >= MAX_ATTEMPTS else None,
            )
            if attempts >= MAX_ATTEMPTS:
                logger.error("event %s (%s) is dead after %s attempts", row.pk, row.topic, attempts)
            return False
        rows.update(attempts=F("attempts") + 1, delivered_at=now, last_error="")
        return True

    def deliver_pending(self, limit: int = 100, *, now: Any = None) -> int:
        """Retry undelivered events whose time has come (oldest first); returns how many
        are now delivered. Each is claimed first, so two retriers do not run it twice."""
        now = now or timezone.now()
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        pending = list(
            OutboxEvent.objects.filter(due, delivered_at__isnull=True, dead_at__isnull=True)
            .order_by("id")
            .values_list("pk", "next_attempt_at")[:limit]
        )
        delivered = 0
        for event_id, next_attempt_at in pending:
            claimed = OutboxEvent.objects.filter(
                pk=event_id, next_attempt_at=next_attempt_at, delivered_at__isnull=True
            ).update(next_attempt_at=now + RETRY_LEASE)
            if claimed and self.deliver(event_id):
                delivered += 1
        return delivered

    def purge_delivered(self, older_than: timedelta = KEEP_DELIVERED) -> int:
        """Delete delivered events older than `older_than` (dead ones stay)."""
        cutoff = timezone.now() - older_than
        deleted, _ = OutboxEvent.objects.filter(delivered_at__lt=cutoff).delete()
        return deleted


def _project_kernel(project_name: str) -> Any:
    """The kernel of the project's published version (built when not cached), or None."""
    from apps.kernel.cache import kernels  # cache -> kernel -> events: import when used
    from apps.projects.models import Project

    version_id = (
        Project.objects.filter(name=project_name).values_list("published_version_id", flat=True)
    ).first()
    if version_id is None:
        return None
    try:
        return kernels.get_version(project_name, version_id)
    except Exception:  # a kernel that does not build: only global subscribers get the event
        logger.exception("cannot build the kernel of %s to deliver an event", project_name)
        return None


def _retry_context(row: OutboxEvent, kernel: Any) -> Context | None:
    """A context for a retried delivery: the emitter's request id, the acting user when
    the payload names one, else the system."""
    from apps.projects.models import Project

    project = Project.objects.filter(name=row.project).only("pk", "name").first()
    if project is None:
        return None
    kernel = kernel if kernel is not None else _project_kernel(row.project)
    user = None
    user_id = row.payload.get("user_id") if isinstance(row.payload, dict) else None
    if user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model()._base_manager.filter(pk=user_id).first()
    return Context(
        request_id=row.request_id or uuid.uuid4().hex,
        project_id=project.pk,
        project_name=project.name,
        kernel=kernel,
        user=user,
        is_system=user is None,
    )


broker = EventBroker()
