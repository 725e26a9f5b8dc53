"""SQLite group commit: the plain creates a process makes at the same moment share one
transaction.

SQLite takes one writer at a time, and a process's writers queue on a lock first
(transactions.py). Under load that queue sets the pace, not the database: a create is
five SQLite steps (BEGIN IMMEDIATE, the INSERT and its RETURNING row, the audit INSERT,
COMMIT), each releases the GIL, and the writer waits for the GIL again after each one
while it holds the lock, as the next writer does once the lock is handed to it.

So a create with no work of its own inside its transaction (the creates PostgreSQL
sends as one message: written by the kernel's plan, no row-level check, nobody told)
joins a queue with its statement and its audit event. The first in the queue leads: it
takes the writer lock and writes every create queued at that moment in one transaction
(BEGIN, an INSERT and an audit INSERT per create, COMMIT), wakes the others with their
rows, and hands the lead to the next in the queue (the writer queue of LevelDB). A
create queued behind a transaction waits without the GIL, and its group shares the
BEGIN, the COMMIT and the hand-over of the lock.

A create the database refuses (a unique value taken) fails alone: SQLite undoes the
refused statement, not the transaction. Any other failure (the COMMIT's deferred
foreign key check, say) undoes the whole group, and each of its creates is then written
again alone, in a transaction of its own: one create's failure is never another's.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction

from apps.audit import record as audit
from apps.objectql.transactions import sqlite_writer

MAX_GROUP = 64  # creates per transaction; a process has far fewer threads


class Create:
    """A create in the queue: its INSERT ... RETURNING, parameters and audit event in;
    out, once `done`: the stored row, the database's refusal of the INSERT, or neither
    (its group failed: the caller writes it alone)."""

    __slots__ = ("sql", "params", "event", "row", "error", "done", "group", "_wake")

    def __init__(self, sql: str, params: list[Any], event: dict[str, Any]) -> None:
        self.sql = sql
        self.params = params
        self.event = event
        self.row: tuple | None = None
        self.error: IntegrityError | None = None
        self.done = False
        self.group = 0  # creates in the transaction that wrote this one
        self._wake = threading.Lock()
        self._wake.acquire()  # released by a leader: done, or this create leads next

    def outcome(self) -> tuple | None:
        if self.error is not None:
            raise self.error
        return self.row


_queue: deque[Create] = deque()
_mutex = threading.Lock()  # guards _queue


def available() -> bool:
    """Whether a create can join the queue: SQLite, and not inside a transaction."""
    db = connections[DEFAULT_DB_ALIAS]
    return db.vendor == "sqlite" and not db.in_atomic_block


def write(create: Create) -> tuple | None:
    """Write `create` in a group's transaction (`available()` must hold): the row its
    INSERT returned, None when its group failed (nothing of it was kept: write it
    alone), or the IntegrityError of its own INSERT raised."""
    with _mutex:
        _queue.append(create)
        leads = _queue[0] is create
    if not leads:
        create._wake.acquire()  # without the GIL
        if create.done:
            return create.outcome()
    group = [create]  # first in the queue now
    try:
        with sqlite_writer:  # those queued while it waited for the lock join
            with _mutex:
                group = list(itertools.islice(_queue, MAX_GROUP))
            _write_group(group)
    finally:
        with _mutex:
            for _ in group:
                _queue.popleft()
            following = _queue[0] if _queue else None
        for member in group:
            member.done = True
            if member is not create:
                member._wake.release()
        if following is not None:
            following._wake.release()  # it leads the next group
    return create.outcome()


def _write_group(group: list[Create]) -> None:
    """One transaction for the group (the writer lock held); on any failure but a refused
    INSERT, none of it."""
    db = connections[DEFAULT_DB_ALIAS]
    try:
        with transaction.atomic(using=db.alias):
            for create in group:
                try:
                    with db.cursor() as cursor:
                        cursor.execute(create.sql, create.params)
                        row = cursor.fetchone()
                except IntegrityError as error:
                    if not db.connection.in_transaction:  # the statement took it with it
                        raise
                    create.error = error
                    continue
                audit.append(create.event)
                create.row = row
    except Exception:  # each create is written again alone, and fails on its own
        for create in group:
            create.row = create.error = None
        return
    for create in group:
        create.group = len(group)
