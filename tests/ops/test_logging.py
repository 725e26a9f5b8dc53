"""X-Request-Id in and out, and in the one JSON log line per request."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from apps.ops.logging import JsonFormatter, RequestIdFilter
from apps.projects.context import current_request_id

pytestmark = pytest.mark.django_db


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "objectos.request"]


def test_request_id_is_kept_and_logged_with_the_request(demo_client, demo_admin, caplog):
    caplog.set_level(logging.INFO, logger="objectos.request")
    response = demo_client.get("/api/v1/data/demo_customer?top=1", HTTP_X_REQUEST_ID="req-42.a")
    assert response.status_code == 200
    assert response["X-Request-Id"] == "req-42.a"

    [record] = request_lines(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line.pop("time").endswith("Z")
    assert line.pop("duration_ms") >= 0
    assert line == {
        "level": "INFO",
        "logger": "objectos.request",
        "message": f"GET /api/v1/data/demo_customer {200} {record.duration_ms}ms",
        "request_id": "req-42.a",
        "project": "demo",
        "user_id": demo_admin.pk,
        "method": "GET",
        "path": "/api/v1/data/demo_customer",
        "route": "/api/v1/data/<object_name>",
        "status": 200,
    }


def test_request_id_is_generated_when_absent_or_unsafe(demo_client, caplog):
    caplog.set_level(logging.INFO, logger="objectos.request")
    generated = demo_client.get("/api/v1/data/demo_customer")["X-Request-Id"]
    unsafe = demo_client.get("/api/v1/data/demo_customer", HTTP_X_REQUEST_ID="a b\nc")
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert unsafe["X-Request-Id"] not in ("a b\nc", generated)
    assert [r.request_id for r in request_lines(caplog)] == [generated, unsafe["X-Request-Id"]]


def test_error_answers_are_logged_too(db, caplog):
    caplog.set_level(logging.INFO, logger="objectos.request")
    response = Client(HTTP_HOST="nowhere.test").get("/x", HTTP_X_REQUEST_ID="lost-1")
    assert (response.status_code, response["X-Request-Id"]) == (404, "lost-1")
    [record] = request_lines(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("request_id", "status", "route", "path")} == {
        "request_id": "lost-1",
        "status": 404,
        "route": "unmatched",
        "path": "/x",
    }
    assert "project" not in line and "user_id" not in line


def test_every_record_logged_during_a_request_gets_its_id(demo_client, caplog, monkeypatch):
    """The filter reads the request id the request middleware puts in a contextvar."""
    caplog.handler.addFilter(RequestIdFilter())
    seen = []
    from apps.api import views

    original = views.ObjectCollectionView.get

    def get(self, request, *args, **kwargs):
        logging.getLogger("objectos.test").warning("inside the view")
        seen.append(current_request_id.get())
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(views.ObjectCollectionView, "get", get)
    demo_client.get("/api/v1/data/demo_customer", HTTP_X_REQUEST_ID="ctx-7")
    [record] = [r for r in caplog.records if r.name == "objectos.test"]
    assert record.request_id == "ctx-7" == seen[0]
    assert current_request_id.get() is None  # reset after the request


def test_formatter_writes_exceptions_and_outside_requests():
    record = logging.LogRecord("objectos.x", logging.ERROR, __file__, 1, "boom %s", (1,), None)
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RequestIdFilter().filter(record) is True
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["level"], "request_id" in line) == ("boom 1", "ERROR", False)
    assert line["exc"].startswith("Traceback") and "ValueError: bad" in line["exc"]
