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
        _held.events = held
        try:
            yield
        finally:
            _held.events = None  # before the COMMIT: on_commit callbacks append on their own
        events = _kept(db, held)
        if events:
            _send(db, statements, events, commit=True)


def _send(
    db: Any,
    statements: Statements,
    events: list[tuple[dict[str, Any], AuditEvent]],
    *,
    commit: bool,
) -> None:
    """INSERT `events` in order (their chains' heads created first where missing), and
    COMMIT after them when `commit`: one round trip with client-side binding."""
    now = timezone.now()  # stamped as sent: times follow the chain's order
    chains = list(dict.fromkeys(values["chain"] for values, _ in events))
    steps: list[tuple[str, list[Any]]] = [(statements.ensure_head, [c, c]) for c in chains]
    for values, _ in events:
        values["created_at"] = now
        steps.append((statements.linked, statements.linked_params(values, db)))
    with db.cursor() as cursor:
        if statements.one_trip:
            sql = "; ".join(step for step, _ in steps) + ("; COMMIT" if commit else "")
            cursor.execute(sql, [value for _, values in steps for value in values])
        elif commit:  # `appends_with_commit` holds nothing without client-side binding
            raise RuntimeError("a COMMIT is sent with the appends only in one round trip")
        for position, (step, step_params) in enumerate(steps):
            if not statements.one_trip:
                cursor.execute(step, step_params)
            elif position:
                cursor.nextset()  # the next statement's result
            if position >= len(chains):
                values, event = events[position - len(chains)]
                event_id, values["seq"], values["prev_hash"], values["hash"] = cursor.fetchone()
                event.__dict__.update(values)
                event.id = event_id
