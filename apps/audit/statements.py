"""The SQL of an audit append for each database, written out once per process (no ORM
compilation on the write path), and the appended row as an AuditEvent."""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models.base import ModelState

from apps.audit.hashing import hash_pieces
from apps.audit.models import AuditChainHead, AuditEvent


def stored_event(event_id: int | None, values: dict[str, Any], alias: str) -> AuditEvent:
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


class Statements:
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
        # PostgreSQL links and hashes an event in the database (apps/audit/linked.py);
        # Django's psycopg cursors bind parameters on the client, and so can send several
        # statements (the COMMIT too) in one round trip.
        self.linked = self._linked(db) if db.vendor == "postgresql" else None
        self.ensure_head = self._ensure_head(db) if db.vendor == "postgresql" else None
        self.one_trip = db.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True
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
        seq, prev_hash and hash computed from it, RETURNING what the caller fills in.
        The head is outer-joined to one row: with no head the event still has a row, and
        its NULL seq fails the statement (never an append that silently inserts nothing,
        which a COMMIT sent with it would make final)."""
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
            "INSERT INTO {} ({}) SELECT {} FROM (VALUES (0)) one LEFT JOIN"  # noqa: S608
            " (SELECT {}, {} FROM {} WHERE {} = %s FOR UPDATE) h ON true RETURNING {}, {}, {}, {}"
        )
        return sql.format(
            quote(event.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(computed.get(f.name, "%s") for f in self.fields),
            quote(head.get_field("last_seq").column),
            quote(head.get_field("last_hash").column),
            quote(head.db_table),
            quote(head.get_field("chain").column),
            *(quote(event.get_field(n).column) for n in ("id", "seq", "prev_hash", "hash")),
        )

    @staticmethod
    def _ensure_head(db: Any) -> str:
        """PostgreSQL: create the chain's head, empty, unless it exists (params: chain,
        chain). The NOT EXISTS spares the id sequence a value on every append."""
        quote = db.ops.quote_name
        head = AuditChainHead._meta
        table, chain = quote(head.db_table), quote(head.get_field("chain").column)
        columns = ", ".join(
            quote(head.get_field(n).column) for n in ("chain", "last_seq", "last_hash")
        )
        sql = (
            "INSERT INTO {} ({}) SELECT %s, 0, '' WHERE NOT EXISTS"  # noqa: S608
            " (SELECT 1 FROM {} WHERE {} = %s) ON CONFLICT ({}) DO NOTHING"
        )
        return sql.format(table, columns, table, chain, chain)

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


_built: dict[str, Statements] = {}


def for_database(db: Any) -> Statements:
    """The statements of `db`'s vendor, built on first use."""
    key = db.vendor
    statements = _built.get(key)
    if statements is None:
        statements = _built[key] = Statements(db)
    return statements
