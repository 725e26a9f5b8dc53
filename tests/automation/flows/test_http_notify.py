"""The http node (a real local server; the private-address guard) and the notify node
with the notifications API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.automation.flows.exceptions import HttpRefused
from apps.automation.flows.nodes.http import checked_address
from apps.automation.models import Notification
from tests import factories

PORT = 8311


class Echo(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Echo.received.append({"path": self.path, "body": body, "host": self.headers["Host"]})
        answer = json.dumps({"echo": body["title"]}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Echo.received.clear()
    yield f"http://localhost:{PORT}"
    httpd.shutdown()
    httpd.server_close()


def trigger(client, flow, inputs):
    return client.post(f"/api/v1/automation/{flow}/trigger", {"inputs": inputs}, format="json")


def test_http_node_calls_a_local_server_when_private_addresses_are_allowed(
    settings, server, member_client
):
    settings.OS_FLOW_HTTP_ALLOW_PRIVATE = True
    run = trigger(member_client, "caller", {"url": f"{server}/hook?x=1", "title": "Hi"}).json()
    assert run["status"] == "completed", run["error"]
    assert run["outputs"]["answer"] == {
        "status": 201, "headers": {"Content-Type": "application/json"}, "body": {"echo": "Hi"},
    }  # fmt: skip
    assert Echo.received == [
        {"path": "/hook?x=1", "body": {"title": "Hi"}, "host": f"localhost:{PORT}"}
    ]


def test_http_node_refuses_loopback_by_default(settings, server, member_client):
    settings.OS_FLOW_HTTP_ALLOW_PRIVATE = False
    run = trigger(member_client, "caller", {"url": f"{server}/hook", "title": "Hi"}).json()
    assert run["status"] == "failed"
    assert run["error"] == (
        "refused to call localhost (127.0.0.1): loopback, private and link-local addresses "
        "are blocked (OS_FLOW_HTTP_ALLOW_PRIVATE)"
    )
    assert Echo.received == []
    bad = trigger(member_client, "caller", {"url": "file:///etc/passwd", "title": "x"}).json()
    assert bad["status"] == "failed" and "url must be http(s)" in bad["error"]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.0.1",
        "169.254.169.254",
        "::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
    ],  # fmt: skip
)
def test_guard_refuses_internal_addresses(settings, host):
    settings.OS_FLOW_HTTP_ALLOW_PRIVATE = False
    with pytest.raises(HttpRefused):
        checked_address(host, 80)


def test_guard_lets_public_addresses_through(settings):
    settings.OS_FLOW_HTTP_ALLOW_PRIVATE = False
    assert checked_address("93.184.216.34", 443) == "93.184.216.34"


def test_notify_node_stores_notifications_read_through_the_api(flw, member, member_client):
    other = factories.make_user("other@flw.test", flw, permission_sets=["flw_member"])
    stranger = factories.make_user("stranger@elsewhere.test")  # no member of flw
    run = trigger(
        member_client,
        "notifier",
        {"who": [member.pk, other.email, stranger.email, "nobody@x.test"], "name": "Ann"},
    ).json()
    assert run["status"] == "completed"
    output = run["trace"][1]["output"]
    assert output["unresolved"] == [stranger.email, "nobody@x.test"]
    assert sorted(run["trace"][1]["output"]["recipients"]) == sorted([member.pk, other.pk])
    listed = member_client.get("/api/v1/notifications").json()
    assert listed["total"] == 1 and listed["unread"] == 1
    (note,) = listed["notifications"]
    assert (note["title"], note["message"], note["severity"], note["read"]) == (
        "Hello Ann", "msg", "warning", False,
    )  # fmt: skip
    assert note["flowRun"] == run["id"]
    read = member_client.post(f"/api/v1/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.json()["read"] is True
    assert member_client.get("/api/v1/notifications?unread=true").json()["total"] == 0
    theirs = Notification.objects.get(recipient=other)
    assert member_client.post(f"/api/v1/notifications/{theirs.pk}/read").status_code == 404
    assert factories.api_client(flw).get("/api/v1/notifications").status_code == 401
