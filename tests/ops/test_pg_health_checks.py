"""PostgreSQL health checks (apps/ops/backends/postgresql): a connection that ended a
request without a database error moments ago skips the next request's `SELECT 1`; one
idle for longer is checked, and replaced when the server dropped it; a request that
failed on the database proves nothing. Real connections, a real backend terminated."""

from __future__ import annotations

import psycopg
import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the health check's round trip is PostgreSQL's"
    ),
]


@pytest.fixture
def checks(monkeypatch):
    """The health checks run (is_usable calls), counted; the real check runs."""
    calls: list[bool] = []
    wrapper = type(connections[DEFAULT_DB_ALIAS])
    real = wrapper.is_usable

    def counted(self) -> bool:
        usable = real(self)
        calls.append(usable)
        return usable

    monkeypatch.setattr(wrapper, "is_usable", counted)
    connection.close()  # each test's first request opens a connection (never checked)
    return calls


def request(sql: str = "SELECT 1") -> int:
    """What a request does to the connection: Django's start and end of request around a
    query (the backend's pid, which tells a new connection from the old one)."""
    close_old_connections()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        close_old_connections()


def terminate(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_proven_moments_ago_skips_the_check(checks, settings):
    settings.OS_DB_HEALTH_CHECK_WINDOW = 60
    first = request()
    assert connection.proven_at is not None
    assert [request(), request()] == [first, first]
    assert checks == []  # no SELECT 1 before either request


def test_a_connection_idle_past_the_window_is_checked(checks, settings):
    first = request()
    settings.OS_DB_HEALTH_CHECK_WINDOW = 0
    assert request() == first
    assert checks == [True]


def test_a_connection_the_server_dropped_while_idle_is_replaced(checks, settings):
    first = request()
    settings.OS_DB_HEALTH_CHECK_WINDOW = 0
    terminate(first)
    second = request()  # served: the check found it dead and a new one was opened
    assert second != first
    assert checks == [False]


def test_a_request_that_failed_on_the_database_proves_nothing(checks, settings):
    settings.OS_DB_HEALTH_CHECK_WINDOW = 60
    first = request()
    terminate(first)  # inside the window: the next request is not checked, and fails
    with pytest.raises(OperationalError):
        request()
    assert connection.connection is None  # dropped at the end of the failed request
    assert connection.proven_at is None
    third = request()
    assert third != first
