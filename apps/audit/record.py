"""Append audit events in the caller's transaction and compute field diffs."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models.base import ModelState
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


def _canonical(values: dict[str, Any]) -> bytes:
    """The canonical JSON of the hashed columns: what a row's hash digests."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    if isinstance(payload["created_at"], datetime):
        payload["created_at"] = payload["created_at"].isoformat()
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=_default)


def row_hash(values: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the hashed columns (verify_audit recomputes it)."""
    return hashlib.sha256(_canonical(values)).hexdigest()


def hash_pieces(values: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """The canonical JSON of an event whose place in the chain is not known yet, cut where
    the chain's last hash and the next sequence number go: `row_hash` of the linked row is
    sha256(first + last_hash + second + str(last_seq + 1) + third), which the database
    computes while it holds the chain head (PostgreSQL: one statement, see `_Statements`).
    The cuts are found by one-off markers, which no other value can hold by chance."""
    prev_mark, seq_mark = secrets.token_hex(16), secrets.randbits(62) | 1 << 62
    data = _canonical({**values, "prev_hash": prev_mark, "seq": seq_mark})
    first, rest = data.split(b'"prev_hash":"%s"' % prev_mark.encode())
    second, third = rest.split(b'"seq":%d' % seq_mark)
    return first + b'"prev_hash":"', b'"' + second + b'"seq":', third


def jsonable(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=_default))


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

    Statements written out once (no ORM compilation on the write path), in the order the
    triggers of migration 0002 demand: read the chain head, insert the event linked to
    it; the insert's own trigger (migration 0003) advances the head.
    On PostgreSQL that is one statement: it locks the head row, links and hashes the
    event in the database (`hash_pieces`) and inserts it. The head stays locked until the
    transaction ends, so every client round trip made while holding it (and the wait for
    the GIL after each) holds up the project's other writers: one statement, not two.
    On SQLite the head this process wrote last is remembered and the read skipped: the
    insert trigger refuses an event that does not extend the real tip (another process
    appended, or a rollback undid ours), and only that statement fails (SQLite aborts the
    statement, not the transaction); the head is then read and the event inserted again."""
    chain = values["chain"]
    values["created_at"] = timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` looks it up on every access
    statements = _statements(db)
    with transaction.atomic(savepoint=False), db.cursor() as cursor:
        if statements.linked is not None:
            return _stored_event(_append_linked(cursor, statements, values), values, db.alias)
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
    return _stored_event(event_id, values, db.alias)


def _stored_event(event_id: int, values: dict[str, Any], alias: str) -> AuditEvent:
    """The appended row as an AuditEvent, built as unpickling builds a model instance
    (`__new__` and its attributes): `Model.__init__` took a quarter of an append's Python
    time, and no caller in the write path even looks at the result."""
    event = AuditEvent.__new__(AuditEvent)
    event.__dict__.update(values)
    event.id = event_id
    event._state = ModelState()
    event._state.adding = False
    event._state.db = alias
    return event


def _append_linked(cursor: Any, statements: _Statements, values: dict[str, Any]) -> int:
    """INSERT the event after its chain's tip in one statement (`_Statements.linked`);
    its id. The chain's head is created on its first event."""
    params = statements.linked_params(values, cursor.db)
    cursor.execute(statements.linked, params)
    row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.get_or_create(chain=values["chain"])
        cursor.execute(statements.linked, params)
        row = cursor.fetchone()
    event_id, values["seq"], values["prev_hash"], values["hash"] = row
    return event_id


def _append(
    cursor: Any, statements: _Statements, values: dict[str, Any], tip: tuple[int, str]
) -> int:
    """INSERT the event as the successor of `tip` (last_seq, last_hash); its id."""
    values["seq"] = tip[0] + 1
    values["prev_hash"] = tip[1]
    values["hash"] = row_hash(values)
    cursor.execute(statements.insert, statements.params(values, cursor.db))
    return cursor.fetchone()[0] if statements.returns_id else cursor.lastrowid


class _Statements:
    """The SQL of one append for the current database, built once per process."""

    def __init__(self, db: Any) -> None:
        quote = db.ops.quote_name
        event, head = AuditEvent._meta, AuditChainHead._meta
        self.fields = [f for f in event.concrete_fields if not f.primary_key]
        # Values the driver cannot take as they are: `created_at` (always an aware
        # datetime) goes through the backend's own adapter, as an ORM insert would; the
        # JSON columns (already JSON-ready, see `jsonable`) are encoded with orjson, about
        # ten times faster than the json module the JSONField would use.
        self.created_at = next(i for i, f in enumerate(self.fields) if f.name == "created_at")
        self.json_columns = {
            i: f for i, f in enumerate(self.fields) if f.get_internal_type() == "JSONField"
        }
        self.json = _JSON_ADAPTERS.get(db.vendor)
        # SQLite gives the new id as the cursor's lastrowid: without RETURNING the insert
        # is one step of the statement, not two, and each step lets go of the GIL, which
        # a writer holding the write lock then waits to take back.
        self.returns_id = db.vendor != "sqlite"
        self.insert = "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608
            quote(event.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(["%s"] * len(self.fields)),
            f" RETURNING {quote(event.pk.column)}" if self.returns_id else "",
        )
        # SQLite: one writer at a time, and a failed statement leaves the transaction
        # usable, so the tip can be remembered (PostgreSQL locks the head row instead).
        self.remember_tip = db.vendor == "sqlite"
        columns = ", ".join(quote(head.get_field(n).column) for n in ("last_seq", "last_hash"))
        self.head = "SELECT {} FROM {} WHERE {} = %s{}".format(  # noqa: S608
            columns,
            quote(head.db_table),
            quote(head.get_field("chain").column),
            " FOR UPDATE" if db.vendor != "sqlite" else "",  # SQLite: one writer
        )
        self.linked = self._linked(db) if db.vendor == "postgresql" else None
        # SQLite and PostgreSQL advance the head in the insert's trigger (migration 0003);
        # elsewhere the writer does it.
        self.advance = (
            None
            if db.vendor in ("sqlite", "postgresql")
            else "UPDATE {} SET {} = %s, {} = %s WHERE {} = %s".format(  # noqa: S608
                quote(head.db_table),
                quote(head.get_field("last_seq").column),
                quote(head.get_field("last_hash").column),
                quote(head.get_field("chain").column),
            )
        )

    def _linked(self, db: Any) -> str:
        """PostgreSQL: INSERT ... SELECT from the chain's head row, locked (FOR UPDATE),
        seq, prev_hash and hash computed from it, RETURNING what the caller fills in."""
        quote = db.ops.quote_name
        event, head = AuditEvent._meta, AuditChainHead._meta
        last_seq = "h.{}".format(quote(head.get_field("last_seq").column))
        last_hash = "h.{}".format(quote(head.get_field("last_hash").column))
        computed = {
            "seq": f"{last_seq} + 1",
            "prev_hash": last_hash,
            "hash": f"encode(sha256(%s || convert_to({last_hash}, 'UTF8') || %s"
            f" || convert_to(({last_seq} + 1)::text, 'UTF8') || %s), 'hex')",
        }
        sql = (
            "INSERT INTO {} ({}) SELECT {} FROM {} h WHERE h.{} = %s FOR UPDATE OF h"  # noqa: S608
            " RETURNING {}, {}, {}, {}"
        )
        return sql.format(
            quote(event.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(computed.get(f.name, "%s") for f in self.fields),
            quote(head.db_table),
            quote(head.get_field("chain").column),
            *(quote(event.get_field(n).column) for n in ("id", "seq", "prev_hash", "hash")),
        )

    def linked_params(self, values: dict[str, Any], db: Any) -> list[Any]:
        """The parameters of `linked`: the columns but seq and prev_hash, the three pieces
        of the hashed JSON where the hash goes, and the chain."""
        pieces = hash_pieces(values)
        params: list[Any] = []
        columns = self.params({**values, "hash": None}, db)  # the hash is computed
        for field, value in zip(self.fields, columns, strict=True):
            if field.name == "hash":
                params.extend(pieces)
            elif field.name not in ("seq", "prev_hash"):
                params.append(value)
        params.append(values["chain"])
        return params

    def params(self, values: dict[str, Any], db: Any) -> list[Any]:
        params = [values[f.attname] for f in self.fields]
        params[self.created_at] = db.ops.adapt_datetimefield_value(params[self.created_at])
        for position, field in self.json_columns.items():
            value = params[position]
            params[position] = (
                self.json(value) if self.json is not None else field.get_db_prep_save(value, db)
            )
        return params


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb  # only ever called on PostgreSQL

    return Jsonb(value, dumps=_json_text)


# JSON column value -> what the driver takes; other databases use the JSONField's own.
_JSON_ADAPTERS = {"sqlite": _json_text, "postgresql": _jsonb}


_built: dict[str, _Statements] = {}
# SQLite: chain -> (last_seq, last_hash) as this process last advanced it (a guess that
# the insert trigger checks; see `record`).
_tips: dict[str, tuple[int, str]] = {}


def _statements(db: Any) -> _Statements:
    key = db.vendor
    statements = _built.get(key)
    if statements is None:
        statements = _built[key] = _Statements(db)
    return statements


def _locked_head(cursor: Any, statements: _Statements, chain: str) -> tuple[int, str]:
    """(last_seq, last_hash) of the chain's head, created empty on its first event."""
    cursor.execute(statements.head, [chain])
    row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.get_or_create(chain=chain)
        cursor.execute(statements.head, [chain])
        row = cursor.fetchone()
    return row
