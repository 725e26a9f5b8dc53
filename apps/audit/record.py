"""Append audit events in the caller's transaction and compute field diffs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditChainHead, AuditEvent
from apps.projects.context import Context

SYSTEM_CHAIN = "_system"
REDACTED = "[redacted]"
HASHED_FIELDS = (
    "chain", "seq", "created_at", "action", "object_name", "record_id", "actor_user_id",
    "actor_api_key_id", "actor", "request_id", "ip", "user_agent", "changes", "details",
    "prev_hash",
)  # fmt: skip


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def row_hash(values: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the hashed columns (verify_audit recomputes it)."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    if isinstance(payload["created_at"], datetime):
        payload["created_at"] = payload["created_at"].isoformat()
    data = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=_default)
    return hashlib.sha256(data).hexdigest()


def jsonable(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=_default))


def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None, redact: Iterable[str] = ()
) -> list[list[Any]]:
    """`[field, old, new]` for every field whose value changed; redacted fields show a marker."""
    before, after = before or {}, after or {}
    hidden = set(redact)
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in hidden:
            changes.append(
                [name, REDACTED if old is not None else None, REDACTED if new is not None else None]
            )
        else:
            changes.append([name, jsonable(old), jsonable(new)])
    return changes


def record(
    ctx: Context | None,
    action: str,
    *,
    object_name: str = "",
    record_id: str = "",
    changes: list | None = None,
    details: dict | None = None,
    chain: str | None = None,
) -> AuditEvent:
    """Append one event to the project's chain, inside the current transaction."""
    if chain is None:
        chain = (ctx.project_name if ctx is not None else "") or SYSTEM_CHAIN
    with transaction.atomic(savepoint=False):
        head = _locked_head(chain)
        user = ctx.user if ctx is not None else None
        values: dict[str, Any] = {
            "chain": chain,
            "seq": head.last_seq + 1,
            "created_at": timezone.now(),
            "action": action,
            "object_name": object_name,
            "record_id": str(record_id or ""),
            "actor_user_id": ctx.user_id if ctx is not None else None,
            "actor_api_key_id": ctx.api_key_id if ctx is not None else None,
            "actor": (getattr(user, "email", "") or getattr(user, "username", ""))
            if user
            else ("system" if ctx is None or ctx.is_system else ""),
            "request_id": ctx.request_id if ctx is not None else "",
            "ip": ctx.ip if ctx is not None else "",
            "user_agent": (ctx.user_agent if ctx is not None else "")[:512],
            "changes": jsonable(changes or []),
            "details": jsonable(details or {}),
            "prev_hash": head.last_hash,
        }
        values["hash"] = row_hash(values)
        event = AuditEvent.objects.create(**values)
        AuditChainHead.objects.filter(pk=head.pk).update(
            last_seq=values["seq"], last_hash=values["hash"]
        )
    return event


def _locked_head(chain: str) -> AuditChainHead:
    head, _ = AuditChainHead.objects.get_or_create(chain=chain)
    if connection.vendor != "sqlite":  # SQLite writers are already serialised
        head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
    return head
