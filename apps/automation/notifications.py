"""Stored notifications: `notify(ctx, recipients, title, message, ...)` writes one row per
recipient who is a user of the project; `GET /api/v1/notifications` reads them.

Recipients may be user ids (ints or digit strings), emails, user objects or lists of
those; `None` and unknown ones are skipped and returned as `unresolved` (a flow should
not fail because a record has no owner yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.automation.models import Notification
from apps.projects.context import Context
from apps.security.models import Membership

SEVERITIES = frozenset(choice for choice, _ in Notification.Severity.choices)


@dataclass
class Delivered:
    notifications: list[Notification] = field(default_factory=list)
    unresolved: list[Any] = field(default_factory=list)

    @property
    def recipient_ids(self) -> list[int]:
        return [n.recipient_id for n in self.notifications]


def _flatten(recipients: Any) -> list[Any]:
    if recipients is None:
        return []
    if isinstance(recipients, str | int) or not isinstance(recipients, Iterable):
        return [recipients]
    if isinstance(recipients, dict):
        return [recipients.get("id") or recipients.get("email")]
    items = []
    for item in recipients:
        items.extend(_flatten(item))
    return items


def resolve_users(ctx: Context, recipients: Any) -> tuple[list[Any], list[Any]]:
    """(users of the project named by `recipients`, the names that are no such user)."""
    wanted = [r for r in _flatten(recipients) if r not in (None, "")]
    ids, emails, users = set(), set(), {}
    for item in wanted:
        if hasattr(item, "pk"):
            users[item.pk] = item
        elif isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            ids.add(int(item))
        elif isinstance(item, str):
            emails.add(item.strip().lower())
    if ids or emails:
        query = Q(pk__in=ids) | Q(email__in=emails) | Q(username__in=emails)
        members = Membership.objects.filter(project_id=ctx.project_id).values("user_id")
        found = (
            get_user_model()
            ._base_manager.filter(query)
            .filter(Q(pk__in=members) | Q(is_superuser=True))
        )
        for user in found:
            users[user.pk] = user
    known_emails = {(u.email or "").lower() for u in users.values()} | {
        (u.username or "").lower() for u in users.values()
    }
    unresolved = [
        item
        for item in wanted
        if not hasattr(item, "pk")
        and not (
            (isinstance(item, int) or (isinstance(item, str) and item.isdigit()))
            and int(item) in users
        )
        and not (isinstance(item, str) and item.strip().lower() in known_emails)
    ]
    return list(users.values()), unresolved


def notify(
    ctx: Context,
    recipients: Any,
    title: str,
    message: str = "",
    *,
    severity: str = "info",
    source_object: str | None = None,
    source_id: str | None = None,
    topic: str = "",
    action_url: str = "",
    flow_run: Any = None,
) -> Delivered:
    """Store one notification per resolved recipient (in the caller's transaction)."""
    if severity not in SEVERITIES:
        severity = "info"
    users, unresolved = resolve_users(ctx, recipients)
    rows = [
        Notification(
            project=ctx.project_name,
            recipient=user,
            title=str(title or "")[:500],
            message=str(message or ""),
            severity=severity,
            topic=str(topic or "")[:200],
            action_url=str(action_url or "")[:500],
            source_object=str(source_object or "")[:64],
            source_id=str(source_id or "")[:64],
            flow_run=flow_run,
        )
        for user in users
    ]
    if rows:
        Notification.objects.bulk_create(rows)
    return Delivered(rows, unresolved)


def serialize(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "title": notification.title,
        "message": notification.message,
        "severity": notification.severity,
        "topic": notification.topic or None,
        "actionUrl": notification.action_url or None,
        "sourceObject": notification.source_object or None,
        "sourceId": notification.source_id or None,
        "flowRun": notification.flow_run_id,
        "read": notification.read,
        "readAt": _stamp(notification.read_at),
        "createdAt": _stamp(notification.created_at),
    }


def _stamp(value) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def for_user(ctx: Context, *, unread_only: bool = False):
    rows = Notification.objects.filter(project=ctx.project_name, recipient_id=ctx.user_id)
    return rows.filter(read=False) if unread_only else rows


def mark_read(ctx: Context, notification_id: int) -> Notification | None:
    """Marks the signed-in user's notification read; None when it is not theirs."""
    row = for_user(ctx).filter(pk=notification_id).first()
    if row is not None and not row.read:
        row.read, row.read_at = True, timezone.now()
        row.save(update_fields=["read", "read_at"])
    return row
