"""Appending to a hash chain: the database links and hashes an event (PostgreSQL) exactly
as `row_hash` does, and concurrent writers each get their own place in the chain."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from django.db import connections

from apps.audit import record as audit
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.verify import verify_chain
from apps.objectql.transactions import write_transaction

TRICKY = {
    "chain": "tricky",
    "seq": 0,
    "created_at": datetime(2026, 12, 7, 15, 0, 0, 123456, tzinfo=UTC),
    "action": "update",
    "object_name": "note",
    "record_id": 'a"prev_hash":"',
    "actor_user_id": 7,
    "actor_api_key_id": None,
    "actor": "zoë@example.test",
    "request_id": '"seq":1',
    "ip": "::1",
    "user_agent": 'ua with "prev_hash":"" and "seq":0 inside',
    # values that look like the cut points: nested keys named as the chain's columns
    "changes": [["data", {"prev_hash": "", "seq": 0}, {"a": 1, "prev_hash": "", "seq": 5}]],
    "details": {"prev_hash": "x", "seq": 3, "ünïcode": "✓"},
    "prev_hash": "",
}


@pytest.mark.parametrize("seq, prev_hash", [(1, ""), (42, "ab" * 32), (10**12, "0" * 64)])
def test_hash_pieces_hash_like_row_hash(seq, prev_hash):
    first, second, third = audit.hash_pieces(TRICKY)
    linked = first + prev_hash.encode() + second + str(seq).encode() + third
    expected = audit.row_hash({**TRICKY, "seq": seq, "prev_hash": prev_hash})
    assert hashlib.sha256(linked).hexdigest() == expected


@pytest.mark.django_db
def test_an_event_linked_in_the_database_verifies():
    first = audit.record(None, "ops.test", chain="tricky", changes=TRICKY["changes"])
    second = audit.record(None, "ops.test", chain="tricky", details=TRICKY["details"])
    assert (first.seq, first.prev_hash) == (1, "")
    assert (second.seq, second.prev_hash) == (2, first.hash)
    for event in (first, second):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.seq, stored.prev_hash, stored.hash) == (
            event.seq,
            event.prev_hash,
            event.hash,
        )
        assert stored.hash == audit.row_hash({n: getattr(stored, n) for n in audit.HASHED_FIELDS})
    head = AuditChainHead.objects.get(chain="tricky")
    assert (head.last_seq, head.last_hash) == (2, second.hash)
    assert verify_chain("tricky").ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_each_take_the_next_place():
    """Threads with their own connections append to one chain at once, each in its own
    transaction: no seq is taken twice or skipped, and the chain verifies."""
    threads, per_thread = 4, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with write_transaction():
                    audit.record(None, "ops.test", chain="busy", details={"writer": n, "i": i})
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    seqs = list(
        AuditEvent.objects.filter(chain="busy").order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, threads * per_thread + 1))
    written = AuditEvent.objects.filter(chain="busy").values_list("details", flat=True)
    assert sorted((d["writer"], d["i"]) for d in written) == [
        (n, i) for n in range(threads) for i in range(per_thread)
    ]
    assert verify_chain("busy").ok


@pytest.mark.django_db
def test_an_append_reads_a_bounded_number_of_events():
    """A fresh database has no planner statistics: the head's guard once looked its event up
    through the (chain, created_at) index there and read the whole chain on every append
    (PostgreSQL: 14 million rows read in the first 5,000 appends of a benchmark)."""
    from django.db import connection

    for _ in range(5):
        audit.record(None, "ops.test", chain="long")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT e.hash FROM os_audit_auditevent e "
                "WHERE e.chain = %s AND e.seq = %s",
                ["long", 3],
            )
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "os_audit_auditevent_chain_seq" in plan, plan
        return
    fetched = (
        "SELECT idx_tup_fetch + seq_tup_read FROM pg_stat_xact_user_tables "
        "WHERE relname = 'os_audit_auditevent'"
    )
    with connection.cursor() as cursor:
        cursor.execute(fetched)
        before = cursor.fetchone()[0]
        for _ in range(200):
            audit.record(None, "ops.test", chain="long")
        cursor.execute(fetched)
        read = cursor.fetchone()[0] - before
    assert read <= 200, f"{read} event rows read for 200 appends"
