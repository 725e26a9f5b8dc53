"""The database down, in process: 503 DATABASE_UNAVAILABLE from the host middleware, from
the API's error handler and from the 500 handler; /readyz says which checks failed; the
next request after the database is back is served (tests/ops/test_outage.py does the same
against a real server whose database is really stopped)."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import contextmanager

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory, override_settings

from apps.ops.errors import server_error
from apps.ops.logging import RequestIdFilter
from apps.projects.database import is_database_unavailable
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = {
    "error": "the database is unavailable; try again shortly",
    "code": "DATABASE_UNAVAILABLE",
}
ARTIFACT = {
    "manifest": {"id": "opsdb", "namespace": "opsdb"},
    "objects": [{"name": "opsdb_note", "fields": {"title": {"type": "text"}}}],
    "data": [{"object": "opsdb_note", "externalId": "title", "records": [{"title": "hi"}]}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database_unreachable(tmp_path):
    """Points this process's connection at a database that is not there, then back."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=free_port())
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing" / "objectos.sqlite3")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def opsdb():
    project = factories.publish_artifact("opsdb", ARTIFACT)
    user = factories.make_user("ops@opsdb.test", project, superuser=True)
    return factories.api_client(project, user)


def test_host_resolution_answers_503_while_the_database_is_down(opsdb, tmp_path, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with database_unreachable(tmp_path):
        response = opsdb.get("/api/v1/data/opsdb_note", HTTP_X_REQUEST_ID="down-1")
        assert (response.status_code, response.json()) == (503, UNAVAILABLE)
        assert response["X-Request-Id"] == "down-1"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert Client().get("/healthz").status_code == 200
    [warning] = [r for r in caplog.records if r.name == "objectos.database"]
    assert warning.getMessage().startswith("database unavailable while resolving host")
    assert warning.request_id == "down-1"

    response = opsdb.get("/api/v1/data/opsdb_note")  # the database is back
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["records"]] == ["hi"]


def test_the_api_error_handler_answers_503_when_a_query_fails(opsdb, tmp_path, caplog):
    assert opsdb.get("/api/v1/data/opsdb_note").status_code == 200  # route + kernel cached
    with database_unreachable(tmp_path):
        response = opsdb.get("/api/v1/data/opsdb_note")
        assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    messages = [r.getMessage() for r in caplog.records if r.name == "objectos.database"]
    assert len(messages) == 1 and messages[0].startswith("database unavailable: ")
    assert opsdb.get("/api/v1/data/opsdb_note").status_code == 200


@override_settings(Q_CLUSTER={"name": "objectos", "orm": "default"})
def test_readyz_names_the_failed_check(opsdb, tmp_path):
    assert Client().get("/readyz").status_code == 200
    with database_unreachable(tmp_path):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": {"status": "failed", "reason": "database unreachable (OperationalError)"},
            "migrations": {"status": "ok"},  # known good for the process, not asked again
            "kernels": {"status": "skipped", "reason": "the database is unavailable"},
            "broker": {
                "status": "failed",
                "reason": "the ORM broker is the database, which is unavailable",
                "broker": "orm",
            },
            "boot": {"status": "ok", "mode": "standalone"},  # apps.ops.boot, needs no database
        },
    }
    assert Client().get("/readyz").status_code == 200


def test_the_500_handler_maps_a_lost_database_to_503(db):
    request = RequestFactory().get("/")
    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        response = server_error(request)
    assert response.status_code == 503
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500


def wrapped(cause: BaseException) -> OperationalError:
    """A Django OperationalError as Django raises it: `from` the driver's error."""
    try:
        try:
            raise cause
        except BaseException as driver_error:
            raise OperationalError(str(driver_error)) from driver_error
    except OperationalError as error:
        return error


def test_only_connection_errors_count_as_unavailable(db):
    assert is_database_unavailable(wrapped(psycopg.OperationalError("connection refused")))
    assert is_database_unavailable(wrapped(psycopg.errors.AdminShutdown("terminating")))
    assert is_database_unavailable(wrapped(psycopg.errors.ConnectionFailure("gone")))
    assert not is_database_unavailable(wrapped(psycopg.errors.QueryCanceled("timeout")))
    assert not is_database_unavailable(wrapped(psycopg.errors.LockNotAvailable("lock")))
    assert is_database_unavailable(
        wrapped(sqlite3.OperationalError("unable to open database file"))
    )
    assert not is_database_unavailable(wrapped(sqlite3.OperationalError("database is locked")))
    assert not is_database_unavailable(wrapped(sqlite3.OperationalError("no such table: x")))
    assert is_database_unavailable(InterfaceError("connection already closed"))
    assert not is_database_unavailable(ValueError("x"))
    assert not is_database_unavailable(None)
