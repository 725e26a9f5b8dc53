"""Read one chain of the audit trail: filters, newest first, paginated like the data lists.

Parameters: `object`, `record`, `actor` (email, or a user id), `action` (comma-separated;
`auth.*` matches a prefix), `since` and `until` (ISO 8601 date or date-time, UTC when no
offset is given; both inclusive, a bare `until` date includes that whole day),
`top|limit` (capped at OS_MAX_PAGE_SIZE) and `skip|offset`. Any other parameter is refused,
so a misspelt filter never silently widens the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from apps.audit.exceptions import InvalidAuditQuery
from apps.audit.models import AuditEvent

ALIASES = {
    "object": "object", "record": "record", "actor": "actor", "action": "action",
    "since": "since", "until": "until",
    "top": "top", "limit": "top", "skip": "skip", "offset": "skip",
}  # fmt: skip
IGNORED = frozenset({"format", "_"})
COLUMNS = {
    "id": "id", "seq": "seq", "time": "created_at", "action": "action",
    "object": "object_name", "recordId": "record_id", "actor": "actor",
    "actorUserId": "actor_user_id", "apiKeyId": "actor_api_key_id",
    "requestId": "request_id", "ip": "ip", "userAgent": "user_agent",
    "changes": "changes", "details": "details",
}  # fmt: skip


@dataclass(frozen=True)
class AuditQuery:
    """A validated audit trail query: `where` (AND-ed) and one page."""

    where: Q
    top: int
    skip: int = 0


def parse_query(params: Mapping[str, Any]) -> AuditQuery:
    """Validate query-string parameters; raises InvalidAuditQuery naming the parameter."""
    where = Q()
    top, skip = settings.OS_DEFAULT_PAGE_SIZE, 0
    for name, raw in params.items():
        kind = ALIASES.get(name)
        if kind is None:
            if name in IGNORED:
                continue
            raise InvalidAuditQuery(
                f"unknown parameter '{name}' (use object, record, actor, action, since, "
                "until, top, skip)",
                field=name,
            )
        value = str(raw if raw is not None else "").strip()
        if kind == "top":
            top = min(_count(name, value), settings.OS_MAX_PAGE_SIZE)
        elif kind == "skip":
            skip = _count(name, value)
        elif value:
            where &= _filter(kind, name, value)
    return AuditQuery(where=where, top=top, skip=skip)


def _filter(kind: str, name: str, value: str) -> Q:
    if kind == "object":
        return Q(object_name=value)
    if kind == "record":
        return Q(record_id=value)
    if kind == "actor":
        if value.isascii() and value.isdigit() and len(value) < 19:
            return Q(actor__iexact=value) | Q(actor_user_id=int(value))
        return Q(actor__iexact=value)
    if kind == "action":
        return _actions(value)
    moment, whole_day = _moment(name, value)
    if kind == "since":
        return Q(created_at__gte=moment)
    if whole_day:
        return Q(created_at__lt=moment + timedelta(days=1))
    return Q(created_at__lte=moment)


def _actions(value: str) -> Q:
    names = [part.strip() for part in value.split(",") if part.strip()]
    where = Q(action__in=[name for name in names if not name.endswith("*")])
    for prefix in (name[:-1] for name in names if name.endswith("*")):
        where |= Q(action__startswith=prefix)
    return where


def _moment(name: str, value: str) -> tuple[datetime, bool]:
    """(the moment, whether only a date was given: then midnight UTC of that day)."""
    # A "+" of an unencoded offset arrives as a space: "2026-01-02T10:00:00 02:00".
    candidates = (value, value.replace(" ", "+")) if " " in value else (value,)
    for text in candidates:
        try:
            day = parse_date(text)
            moment = parse_datetime(text) if day is None else None
        except ValueError:
            continue
        if day is not None:
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        if moment is not None:
            return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)), False
    raise InvalidAuditQuery(
        f"{name} must be an ISO 8601 date or date-time, such as 2026-01-31 or "
        f"2026-01-31T09:30:00Z (got '{value}')",
        field=name,
    )


def _count(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise InvalidAuditQuery(f"{name} must be an integer from 0 to 999999999999", field=name)
    return int(value)


def list_events(chain: str, query: AuditQuery) -> dict[str, Any]:
    """`{records, total, hasMore}`: the chain's matching events, newest first."""
    events = AuditEvent.objects.filter(query.where, chain=chain)
    total = events.count()
    page = events.order_by("-seq").values(*COLUMNS.values())[query.skip : query.skip + query.top]
    records = [event_json(values) for values in page] if query.top else []
    return {"records": records, "total": total, "hasMore": query.skip + len(records) < total}


def event_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """One event in the wire format (camelCase keys; `time` rendered as ISO 8601 UTC)."""
    return {key: values[column] for key, column in COLUMNS.items()}
