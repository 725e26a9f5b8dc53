"""SQLite group commit (apps.objectql.grouped): plain creates queued at the same moment
share one transaction, a refused INSERT fails alone, and a group that fails is written
again create by create. Real threads on real connections to the SQLite file; these
tests commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections

from apps.audit import record as audit
from apps.audit.models import AuditEvent
from apps.audit.verify import verify_chain
from apps.objectql import grouped
from apps.objectql.transactions import sqlite_writer
from apps.security.principal import forget_memberships
from tests import factories
from tests.audit.conftest import audit_artifact

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="group commit is SQLite's (PostgreSQL: one message)"
    ),
]

NOTES = "/api/v1/data/au_note"


@pytest.fixture
def project():
    """The audit tests' artifact (au_note gets a unique `code`), published for real."""
    forget_memberships()
    raw = audit_artifact()
    raw["objects"][0]["fields"]["code"] = {"type": "text", "unique": True}
    project = factories.publish_artifact("grouped", raw)
    yield project
    forget_memberships()


def clients(project, count: int) -> list:
    """`count` clients of the project's admin, each warmed by one read."""
    admin = factories.make_user("admin@grouped.test", project, superuser=True)
    made = []
    for _ in range(count):
        client = factories.api_client(project, admin)
        assert client.get(NOTES).status_code == 200
        made.append(client)
    return made


def queued_while_the_writer_is_held(calls: list[Callable[[], Any]]) -> tuple[list, list]:
    """Run each call in a thread of its own while this thread holds the writer lock, until
    all of them wait in the queue; then let them go. Their results, in order, and the
    creates that were queued."""
    results: list[Any] = [None] * len(calls)

    def run(position: int) -> None:
        try:
            results[position] = calls[position]()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with sqlite_writer:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(grouped._queue) < len(calls):
            assert time.monotonic() < deadline, "the creates never queued"
            time.sleep(0.005)
        queued = list(grouped._queue)
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    return results, queued


def post(client, body: dict) -> Callable[[], Any]:
    return lambda: client.post(NOTES, body, format="json")


def create_actions() -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(chain="grouped", action="create")
        .order_by("seq")
        .values_list("action", "record_id")
    )


def test_creates_queued_together_share_one_transaction(project):
    responses, queued = queued_while_the_writer_is_held(
        [post(c, {"title": f"T{i}"}) for i, c in enumerate(clients(project, 3))]
    )
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert [create.group for create in queued] == [3, 3, 3]
    ids = [r.json()["id"] for r in responses]
    assert sorted(r.json()["record"]["title"] for r in responses) == ["T0", "T1", "T2"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title FROM grouped__au_note ORDER BY title")
        assert [(str(i).replace("-", ""), t) for i, t in cursor.fetchall()] == sorted(
            zip([i.replace("-", "") for i in ids], ["T0", "T1", "T2"], strict=True),
            key=lambda pair: pair[1],
        )
    # one event per create, in the order written, and the chain holds
    assert sorted(record_id for _, record_id in create_actions()) == sorted(ids)
    assert verify_chain("grouped").ok


def test_a_refused_insert_fails_alone_and_the_group_commits(project):
    responses, queued = queued_while_the_writer_is_held(
        [
            post(c, {"title": f"T{i}", "code": code})
            for i, (c, code) in enumerate(zip(clients(project, 3), ["X1", "X1", "X2"], strict=True))
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201, 400]
    [refused] = [r for r in responses if r.status_code == 400]
    assert refused.json()["fields"] == [
        {"field": "code", "code": "unique", "message": "another au_note has this code"}
    ]
    assert [create.group for create in queued] == [3, 3, 3]  # the group did not fail
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM grouped__au_note ORDER BY code")
        assert cursor.fetchall() == [("X1",), ("X2",)]
    written = sorted(r.json()["id"] for r in responses if r.status_code == 201)
    assert sorted(record_id for _, record_id in create_actions()) == written
    assert verify_chain("grouped").ok


def test_a_failing_group_is_written_again_create_by_create(project):
    """A member whose COMMIT fails (a deferred foreign key to no row) undoes the group:
    the others are then written alone and succeed; the failing one keeps nothing, not
    even its audit event."""
    first, second = clients(project, 2)
    bad_event = audit.event(None, "bad", object_name="auth_group_permissions", chain="grouped")
    group_id = Group.objects.create(name="grouped-writers").pk
    bad = grouped.Create(
        "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s) RETURNING id",
        [group_id, 10**9],
        bad_event,
    )
    responses, queued = queued_while_the_writer_is_held(
        [
            post(first, {"title": "kept 1"}),
            lambda: grouped.write(bad),
            post(second, {"title": "kept 2"}),
        ]
    )
    good = [responses[0], responses[2]]
    assert [r.status_code for r in good] == [201, 201]
    assert responses[1] is None  # the group failed: nothing of it kept, its caller's turn
    assert [create.group for create in queued] == [0, 0, 0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM grouped__au_note ORDER BY title")
        assert cursor.fetchall() == [("kept 1",), ("kept 2",)]
        cursor.execute("SELECT count(*) FROM auth_group_permissions")
        assert cursor.fetchone()[0] == 0
    assert sorted(record_id for _, record_id in create_actions()) == sorted(
        r.json()["id"] for r in good
    )
    assert not AuditEvent.objects.filter(chain="grouped", action="bad").exists()
    assert verify_chain("grouped").ok


def test_a_lone_create_leaves_the_queue_empty(project):
    [client] = clients(project, 1)
    response = client.post(NOTES, {"title": "alone"}, format="json")
    assert response.status_code == 201, response.content
    assert grouped._queue == grouped.deque()
    assert create_actions() == [("create", response.json()["id"])]
    assert verify_chain("grouped").ok
