"""Webhooks: events after commit become deliveries, POSTed signed to a local HTTP server,
retried with backoff, dead-lettered, listed for admins and redelivered."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from apps.automation import webhooks
from apps.automation.models_webhooks import WebhookDelivery
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-tests"


class Receiver:
    """A local HTTP server recording requests and answering with queued status codes."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def free_port() -> int:
    """A free port in this engineer's range (8400-8499)."""
    for port in range(8400, 8500):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


@pytest.fixture(scope="session")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def hook_app(port: int) -> dict:
    return {
        "manifest": {"id": "dev.objectos.rulhook", "namespace": "rulhook", "version": "1.0.0", "name": "Hooks"},
        "objects": [
            {
                "name": "hk_item",
                "sharingModel": "public_read_write",
                "fields": {"name": {"type": "text", "required": True}, "amount": {"type": "number"}},
                "validations": [
                    {
                        "name": "amount_positive", "type": "script", "message": "Amount must be positive.",
                        "condition": {"dialect": "cel", "source": "record.amount != null && record.amount < 0"},
                    }
                ],
            }
        ],
        "webhooks": [
            {
                "name": "hk_changed",
                "object": "hk_item",
                "triggers": ["create", "update", "delete"],
                "url": f"http://127.0.0.1:{port}/hook",
                "method": "POST",
                "headers": {"X-Source": "tests", "Content-Type": "text/plain"},
                "payloadFields": ["id", "name", "amount"],
                "secret": "env:RUL_HOOK_SECRET",
                "authentication": {"type": "bearer", "credentials": {"token": "env:RUL_HOOK_TOKEN"}},
                "retryPolicy": {"maxRetries": 2, "backoffStrategy": "exponential", "initialDelayMs": 1000},
                "timeoutMs": 5000,
                "isActive": True,
            },
            {
                "name": "hk_inactive",
                "object": "hk_item",
                "triggers": ["create"],
                "url": f"http://127.0.0.1:{port}/never",
                "isActive": False,
            },
        ],
    }  # fmt: skip


@pytest.fixture(scope="session")
def hook_session(publish_session, receiver):
    return publish_session("rulhook", hook_app(receiver.port))


@pytest.fixture
def hook_project(hook_session, db, settings, monkeypatch, receiver):
    settings.OS_WEBHOOK_ALLOW_PRIVATE = True
    monkeypatch.setenv("RUL_HOOK_SECRET", SECRET)
    monkeypatch.setenv("RUL_HOOK_TOKEN", "tok-123")
    receiver.requests.clear()
    receiver.statuses.clear()
    hook_session.refresh_from_db()
    return hook_session


@pytest.fixture
def client(hook_project):
    return factories.api_client(
        hook_project, factories.make_user("admin@rulhook.test", hook_project, superuser=True)
    )


def create_item(client, capture, **values) -> tuple[int, dict]:
    with capture(execute=True):
        response = client.post("/api/v1/data/hk_item", values, format="json")
    return response.status_code, response.json()


def test_a_committed_write_becomes_a_signed_delivery(
    client, receiver, django_capture_on_commit_callbacks
):
    status, body = create_item(client, django_capture_on_commit_callbacks, name="widget", amount=5)
    assert status == 201, body
    item = body["record"]
    (delivery,) = WebhookDelivery.objects.filter(project="rulhook")
    assert (delivery.webhook, delivery.topic, delivery.status, delivery.attempts) == (
        "hk_changed", "data.hk_item.created", "pending", 0,
    )  # fmt: skip
    assert delivery.payload == {
        "webhook": "hk_changed",
        "event": "data.hk_item.created",
        "object": "hk_item",
        "id": item["id"],
        "record": {"id": item["id"], "name": "widget", "amount": 5},
        "previous": None,
        "project": "rulhook",
    }
    from apps.jobs.models import Job

    (job,) = Job.objects.filter(kind="webhook", kwargs__delivery_id=delivery.id)
    assert (job.func, job.is_system, job.max_attempts) == (
        "apps.automation.webhooks.delivery_task", True, 1,
    )  # fmt: skip
    # the job's one attempt, run here instead of by a worker
    assert webhooks.delivery_task(None, delivery.id) == {
        "delivery": delivery.id,
        "status": "delivered",
    }
    (request,) = receiver.requests
    assert request["path"] == "/hook"
    sent = json.loads(request["body"])
    assert {k: v for k, v in sent.items() if k != "timestamp"} == {
        **delivery.payload,
        "deliveryId": delivery.id,
    }
    assert sent["timestamp"].endswith("Z")
    headers = request["headers"]
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert headers["x-objectos-signature"] == expected
    assert headers["x-objectos-event"] == "data.hk_item.created"
    assert headers["x-objectos-delivery"] == delivery.id
    assert headers["idempotency-key"] == delivery.idempotency_key
    assert headers["content-type"] == "application/json"  # the webhook's own is overridden
    assert headers["x-source"] == "tests"
    assert headers["authorization"] == "Bearer tok-123"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert webhooks.attempt(delivery.id).status == "delivered"  # no second send
    assert len(receiver.requests) == 1


def test_update_and_delete_carry_previous(client, django_capture_on_commit_callbacks):
    _, body = create_item(client, django_capture_on_commit_callbacks, name="w", amount=1)
    item_id = body["record"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/data/hk_item/{item_id}", {"amount": 2}, format="json")
        client.delete(f"/api/v1/data/hk_item/{item_id}")
    rows = WebhookDelivery.objects.filter(project="rulhook").order_by("created_at", "id")
    assert [(d.topic, d.payload["record"], d.payload["previous"]) for d in rows] == [
        ("data.hk_item.created", {"id": item_id, "name": "w", "amount": 1}, None),
        (
            "data.hk_item.updated",
            {"id": item_id, "name": "w", "amount": 2},
            {"id": item_id, "name": "w", "amount": 1},
        ),
        ("data.hk_item.deleted", None, {"id": item_id, "name": "w", "amount": 2}),
    ]


def test_a_refused_write_sends_nothing(client, django_capture_on_commit_callbacks):
    status, body = create_item(client, django_capture_on_commit_callbacks, name="w", amount=-1)
    assert status == 400, body
    assert not WebhookDelivery.objects.filter(project="rulhook").exists()


def test_failures_retry_with_backoff_then_die_and_can_be_redelivered(
    client, receiver, django_capture_on_commit_callbacks
):
    create_item(client, django_capture_on_commit_callbacks, name="w")
    delivery = WebhookDelivery.objects.get(project="rulhook")
    receiver.statuses[:] = [500, 503, 502]
    started = timezone.now()
    delivery = webhooks.attempt(delivery.id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("retrying", 1, "HTTP 500")
    assert dt.timedelta(seconds=0.9) < delivery.next_attempt_at - started < dt.timedelta(seconds=2)
    assert webhooks.deliver_due(now=started) == 0  # not yet
    assert webhooks.deliver_due(now=started + dt.timedelta(seconds=2)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 2, 503)
    assert dt.timedelta(seconds=1.9) < delivery.next_attempt_at - started < dt.timedelta(seconds=3)
    assert webhooks.deliver_due(now=started + dt.timedelta(seconds=10)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("dead", 3, "HTTP 502")
    assert len(receiver.requests) == 3

    response = client.get("/api/v1/webhooks/deliveries", {"status": "dead"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "deliveries": [webhooks.describe(delivery)],
        "total": 1,
        "hasMore": False,
    }
    listed = response.json()["deliveries"][0]
    assert (
        listed["status"],
        listed["attempts"],
        listed["maxAttempts"],
        listed["lastStatusCode"],
    ) == ("dead", 3, 3, 502)

    response = client.post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 202, response.content
    assert response.json()["delivery"]["status"] == "pending"
    assert webhooks.attempt(delivery.id).status == "delivered"
    assert client.get("/api/v1/webhooks/deliveries", {"status": "dead"}).json()["total"] == 0


def test_private_addresses_are_refused_unless_allowed(
    client, settings, receiver, django_capture_on_commit_callbacks
):
    create_item(client, django_capture_on_commit_callbacks, name="w")
    settings.OS_WEBHOOK_ALLOW_PRIVATE = False
    delivery = webhooks.attempt(WebhookDelivery.objects.get(project="rulhook").id)
    assert (delivery.status, delivery.attempts) == ("dead", 1)
    assert delivery.last_error == (
        "127.0.0.1 resolves to 127.0.0.1, a private or reserved address "
        "(set OS_WEBHOOK_ALLOW_PRIVATE to allow it)"
    )
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/x", "not an http(s) URL: 'ftp://example.com/x'"),
        ("http://10.1.2.3/x", "10.1.2.3 resolves to 10.1.2.3, a private or reserved address"),
        ("http://169.254.169.254/latest", "169.254.169.254 resolves to 169.254.169.254, a private"),
        ("http://[::1]:8080/", "::1 resolves to ::1, a private or reserved address"),
    ],
)
def test_check_address(settings, url, error):
    settings.OS_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(webhooks.DeliveryRefused) as refused:
        webhooks.check_address(url)
    assert str(refused.value).startswith(error)


def test_deliveries_are_for_admins_only(hook_project):
    user = factories.make_user("someone@rulhook.test", hook_project)
    client = factories.api_client(hook_project, user)
    response = client.get("/api/v1/webhooks/deliveries")
    assert response.status_code == 403
    assert response.json() == {
        "error": "only project administrators may see webhook deliveries",
        "code": "FORBIDDEN",
    }


def test_bad_list_parameters(client):
    response = client.get("/api/v1/webhooks/deliveries", {"status": "lost"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "status must be one of dead, delivered, pending, retrying",
        "code": "INVALID_QUERY",
        "field": "status",
    }
    response = client.post(f"/api/v1/webhooks/deliveries/{'0' * 32}/redeliver")
    assert response.status_code == 404
    assert response.json() == {
        "error": f"webhook delivery '{'0' * 32}' not found",
        "code": "NOT_FOUND",
    }


def test_backoff_strategies():
    hook = {"retryPolicy": {"initialDelayMs": 1000, "maxDelayMs": 5000}}
    assert [webhooks.backoff(hook, n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    linear = {"retryPolicy": {"backoffStrategy": "linear", "initialDelayMs": 1000}}
    assert [webhooks.backoff(linear, n).total_seconds() for n in (1, 2, 3)] == [1, 2, 3]
    assert webhooks.backoff({}, 1).total_seconds() == 10
