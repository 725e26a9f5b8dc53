"""The hash chain's arithmetic: which columns a row's hash covers and how it is computed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson

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


def canonical(values: dict[str, Any]) -> bytes:
    """The canonical JSON of the hashed columns: what a row's hash digests."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    if isinstance(payload["created_at"], datetime):
        payload["created_at"] = payload["created_at"].isoformat()
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=_default)


def row_hash(values: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the hashed columns (verify_audit recomputes it)."""
    return hashlib.sha256(canonical(values)).hexdigest()


def hash_pieces(values: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """The canonical JSON of an event whose place in the chain is not known yet, cut where
    the chain's last hash and the next sequence number go: `row_hash` of the linked row is
    sha256(first + last_hash + second + str(last_seq + 1) + third), which the database
    computes while it holds the chain head (PostgreSQL, `statements.Statements.linked`).
    The cuts are found by one-off markers, which no other value can hold by chance."""
    prev_mark, seq_mark = secrets.token_hex(16), secrets.randbits(62) | 1 << 62
    data = canonical({**values, "prev_hash": prev_mark, "seq": seq_mark})
    first, rest = data.split(b'"prev_hash":"%s"' % prev_mark.encode())
    second, third = rest.split(b'"seq":%d' % seq_mark)
    return first + b'"prev_hash":"', b'"' + second + b'"seq":', third


def jsonable(value: Any) -> Any:
    """`value` as it reads back from JSON (decimals, dates and other objects as strings)."""
    return orjson.loads(orjson.dumps(value, default=_default))
