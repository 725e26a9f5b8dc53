"""Append audit events in the caller's transaction and compute field diffs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from apps.audit import linked
from apps.audit.hashing import HASHED_FIELDS, hash_pieces, jsonable, row_hash
from apps.audit.linked import appends_with_commit
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.statements import Statements, for_database, stored_event
from apps.projects.context import Context

__all__ = [  # the hashing names are used through this module too
    "HASHED_FIELDS", "SYSTEM_CHAIN", "append", "appends_with_commit", "diff", "event",
    "hash_pieces", "jsonable", "record", "row_hash",
]  # fmt: skip

SYSTEM_CHAIN = "_system"
REDACTED = "[redacted]"


def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None, redact: Iterable[str] = ()
) -> list[list[Any]]:
    """`[field, old, new]` for every field whose value changed; redacted fields show a marker.
    Values are as given: `record` makes the whole list JSON-ready (`jsonable`) at once."""
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
            changes.append([name, old, new])
    return changes


def record(ctx: Context | None, action: str, **columns: Any) -> AuditEvent:
    """Append one event to the project's chain, inside the current transaction:
    `append(event(ctx, action, **columns))` (object_name, record_id, changes, details,
    chain)."""
    return append(event(ctx, action, **columns))


def event(
    ctx: Context | None,
    action: str,
    *,
    object_name: str = "",
    record_id: str = "",
    changes: list | None = None,
    details: dict | None = None,
    chain: str | None = None,
) -> dict[str, Any]:
    """An event's columns but its place in the chain (seq, prev_hash, hash) and its time,
    which `append` gives it. No database work: a writer builds it before it takes the
    write lock, so the lock is held for the statements alone."""
    if chain is None:
        chain = (ctx.project_name if ctx is not None else "") or SYSTEM_CHAIN
    user = ctx.user if ctx is not None else None
    return {
        "chain": chain,
        "seq": 0,
        "created_at": None,
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
        "prev_hash": "",
    }


def append(values: dict[str, Any]) -> AuditEvent:
    """Append an `event(...)` to its chain, inside the current transaction; it is stamped
    with the time of the append, so times follow the chain's order.

    Statements written out once (apps/audit/statements.py), in the order the triggers of
    migration 0002 demand: read the chain head, insert the event linked to it; the
    insert's own trigger (migration 0003) advances the head.
    On PostgreSQL that is one statement, which locks the head and links and hashes the
    event in the database, and inside `appends_with_commit` it goes with the COMMIT
    (apps/audit/linked.py).
    On SQLite the head this process wrote last is remembered and the read skipped: the
    insert trigger refuses an event that does not extend the real tip (another process
    appended, or a rollback undid ours), and only that statement fails (SQLite aborts the
    statement, not the transaction); the head is then read and the event inserted again."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` looks it up on every access
    statements = for_database(db)
    if statements.linked is not None:  # stamped as it is sent
        if statements.one_trip:  # one message: a transaction of its own outside one
            return linked.append(db, statements, values)
        with transaction.atomic(savepoint=False):
            return linked.append(db, statements, values)
    chain = values["chain"]
    values["created_at"] = timezone.now()
    with transaction.atomic(savepoint=False), db.cursor() as cursor:
        event_id = None
        tip = _tips.get(chain) if statements.remember_tip else None
        if tip is not None:
            try:
                event_id = _append(cursor, statements, values, tip)
            except IntegrityError:
                _tips.pop(chain, None)  # not the tip any more: read it
        if event_id is None:
            event_id = _append(cursor, statements, values, _locked_head(cursor, statements, chain))
        if statements.advance is not None:
            cursor.execute(statements.advance, [values["seq"], values["hash"], chain])
        if statements.remember_tip:
            _tips[chain] = (values["seq"], values["hash"])
    return stored_event(event_id, values, db.alias)


def _append(
    cursor: Any, statements: Statements, values: dict[str, Any], tip: tuple[int, str]
) -> int:
    """INSERT the event as the successor of `tip` (last_seq, last_hash); its id."""
    values["seq"] = tip[0] + 1
    values["prev_hash"] = tip[1]
    values["hash"] = row_hash(values)
    cursor.execute(statements.insert, statements.params(values, cursor.db))
    return cursor.fetchone()[0] if statements.returns_id else cursor.lastrowid


# SQLite: chain -> (last_seq, last_hash) as this process last advanced it (a guess that
# the insert trigger checks; see `record`).
_tips: dict[str, tuple[int, str]] = {}


def _locked_head(cursor: Any, statements: Statements, chain: str) -> tuple[int, str]:
    """(last_seq, last_hash) of the chain's head, created empty on its first event."""
    cursor.execute(statements.head, [chain])
    row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.get_or_create(chain=chain)
        cursor.execute(statements.head, [chain])
        row = cursor.fetchone()
    return row
