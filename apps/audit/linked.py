"""PostgreSQL appends: linked and hashed by the database, and sent with the COMMIT.

An append locks its chain's head row until the transaction ends, so the project's other
writers wait for whatever the appending transaction does after it. Each client round
trip there costs the network and, under load, the wait for the GIL after it (up to the
switch interval). So the event is one statement (`Statements.linked`: the head is read,
locked, and the event linked and hashed from it, in the database), and inside
`appends_with_commit` it is held back and sent with the COMMIT, in one round trip: the
head is then held for the server's own work only.

Appends made inside a savepoint are held too, and dropped if that savepoint is rolled
back: the chain's order is the order of the appends that stand.

A single update whose row nothing reads before the commit is held too (`defer`): its
UPDATE goes first in the COMMIT's message.

A write that needs no transaction of its own (objectql's plain create) goes further:
`write_with_append` sends its statement and its event as one message outside any
transaction, which PostgreSQL runs as one implicit transaction: no BEGIN, no COMMIT.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.statements import Statements, for_database, stored_event

# Per thread (a thread has its own connection): the events held for the COMMIT of the
# enclosing `appends_with_commit`, or None outside one.
_held = threading.local()
Held = tuple[dict[str, Any], AuditEvent, "_Mark | None"]  # values, event, savepoint mark


def append(db: Any, statements: Statements, values: dict[str, Any]) -> AuditEvent:
    """Append `values` now, or hold it for the enclosing `appends_with_commit`'s COMMIT
    (the returned event's id, seq and hash are then filled in when it is sent)."""
    event = stored_event(None, values, db.alias)
    held = getattr(_held, "events", None)
    if held is None:
        _send(db, statements, [(values, event)], commit=False)
        return event
    mark = None
    if any(db.savepoint_ids):  # None: an atomic block without a savepoint
        # Django forgets an on_commit callback registered inside a savepoint when that
        # savepoint is rolled back: the event's mark goes with it, and so does the event.
        mark = _Mark()
        transaction.on_commit(mark, using=db.alias)
    held.append((values, event, mark))
    return event


class _Mark:
    """An on_commit callback that does nothing: its presence tells an event held inside a
    savepoint from one whose savepoint was rolled back."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


def _kept(db: Any, held: list[Held]) -> list[tuple[dict[str, Any], AuditEvent]]:
    """The held events whose savepoints were not rolled back, in the order appended."""
    registered = {id(callback) for _, callback, _ in db.run_on_commit}
    return [
        (values, event) for values, event, mark in held if mark is None or id(mark) in registered
    ]


@contextmanager
def appends_with_commit() -> Iterator[None]:
    """An atomic block whose audit appends go to the database with its COMMIT, in one
    round trip. Joins an enclosing transaction as `transaction.atomic()` would (its
    appends are then the enclosing block's concern); elsewhere than on PostgreSQL with
    client-side binding it is `transaction.atomic()`."""
    db = connections[DEFAULT_DB_ALIAS]
    statements = for_database(db)
    if db.in_atomic_block or statements.linked is None or not statements.one_trip:
        with transaction.atomic():
            yield
        return
    held: list[Held] = []
    with transaction.atomic():
        _held.events, _held.lead = held, None
        try:
            yield
        finally:
            lead, _held.lead = _held.lead, None
            _held.events = None  # before the COMMIT: on_commit callbacks append on their own
        events = _kept(db, held)
        if events or lead is not None:
            lead_step = (lead.sql, lead.params) if lead is not None else None
            row = _send(db, statements, events, commit=True, lead=lead_step)
            if lead is not None:
                lead.row, lead.sent = row, True


class Deferred:
    """A data statement held back to go first in the COMMIT's message (`defer`); once
    sent, its first row (None: it returned none)."""

    __slots__ = ("sql", "params", "row", "sent")

    def __init__(self, sql: str, params: list[Any]) -> None:
        self.sql = sql
        self.params = params
        self.row: tuple | None = None
        self.sent = False


def defer(sql: str, params: list[Any]) -> Deferred | None:
    """Hold the data statement `sql` for the enclosing `appends_with_commit`'s COMMIT, sent
    first in its message: one round trip less, for a write whose row nothing reads
    before the commit (its answer reads `Deferred.row` after the block). None where it
    cannot be held: no such block on this thread, inside a savepoint (rolling it back
    could not take the statement with it), or a statement already held; run it then."""
    if getattr(_held, "events", None) is None or getattr(_held, "lead", None) is not None:
        return None
    if any(connections[DEFAULT_DB_ALIAS].savepoint_ids):
        return None
    _held.lead = Deferred(sql, params)
    return _held.lead


def one_message() -> bool:
    """Whether a data statement and its event can go together as one message outside any
    transaction (`write_with_append`): PostgreSQL with client-side binding, autocommit."""
    db = connections[DEFAULT_DB_ALIAS]
    statements = for_database(db)
    return statements.linked is not None and statements.one_trip and not db.in_atomic_block


def write_with_append(sql: str, params: list[Any], values: dict[str, Any]) -> tuple:
    """Run the data statement `sql` (one row back: RETURNING) and append the event
    `values` in one message, which PostgreSQL runs as one transaction: no BEGIN and no
    COMMIT of their own, one round trip in all (`one_message()` must hold). The row."""
    db = connections[DEFAULT_DB_ALIAS]
    event = stored_event(None, values, db.alias)
    return _send(db, for_database(db), [(values, event)], commit=False, lead=(sql, params))


def _send(
    db: Any,
    statements: Statements,
    events: list[tuple[dict[str, Any], AuditEvent]],
    *,
    commit: bool,
    lead: tuple[str, list[Any]] | None = None,
) -> tuple | None:
    """INSERT `events` in order (their chains' heads created first where missing), after
    the `lead` statement when given (its first row is returned), and COMMIT after them
    when `commit`: one round trip with client-side binding."""
    now = timezone.now()  # stamped as sent: times follow the chain's order
    chains = list(dict.fromkeys(values["chain"] for values, _ in events))
    steps: list[tuple[str, list[Any]]] = [lead] if lead is not None else []
    steps += [(statements.ensure_head, [chain, chain]) for chain in chains]
    first_event = len(steps)
    for values, _ in events:
        values["created_at"] = now
        steps.append((statements.linked, statements.linked_params(values, db)))
    led = None
    with db.cursor() as cursor:
        if statements.one_trip:
            sql = "; ".join(step for step, _ in steps) + ("; COMMIT" if commit else "")
            cursor.execute(sql, [value for _, values in steps for value in values])
        elif commit or lead is not None:  # neither is asked for without client binding
            raise RuntimeError("a COMMIT or a lead statement needs client-side binding")
        for position, (step, step_params) in enumerate(steps):
            if not statements.one_trip:
                cursor.execute(step, step_params)
            elif position:
                cursor.nextset()  # the next statement's result
            if position == 0 and lead is not None:
                led = cursor.fetchone()
            elif position >= first_event:
                values, event = events[position - first_event]
                event_id, values["seq"], values["prev_hash"], values["hash"] = cursor.fetchone()
                event.__dict__.update(values)
                event.id = event_id
    return led
