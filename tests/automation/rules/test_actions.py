"""Actions through HTTP: listing with permission and CEL conditions, and each action type
run with exact bodies, records and audit rows."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from tests.automation.rules.conftest import create, user_client

pytestmark = pytest.mark.django_db

DATA = "/api/v1/data/rul_ticket"
ACTIONS = "/api/v1/actions/rul_ticket"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [a["name"] for a in response.json()["actions"]]


def error(response, status: int, code: str, message: str, **extra) -> None:
    assert response.status_code == status, response.content
    assert response.json() == {"error": message, "code": code, **extra}


# -- listing ----------------------------------------------------------------------------


def test_list_actions_of_an_object(admin_client):
    response = admin_client.get(ACTIONS)
    assert names(response) == [
        "rul_close", "rul_schedule", "rul_open_docs", "rul_export", "rul_js_only",
        "rul_edit_form", "rul_explode", "rul_run_flow",
    ]  # fmt: skip
    close = response.json()["actions"][0]
    assert close == {
        "name": "rul_close",
        "label": "Close",
        "type": "update",
        "object": "rul_ticket",
        "locations": ["record_header", "list_item"],
        "params": [{"name": "reason", "label": "Reason", "type": "text", "required": True}],
        "confirmText": None,
        "successMessage": "Closed.",
        "refreshAfter": True,
        "variant": None,
        "icon": None,
        "visible": None,  # depends on the record: none given
        "disabled": None,
        "runnable": True,
    }
    runnable = {a["name"]: a["runnable"] for a in response.json()["actions"]}
    assert runnable == {
        "rul_close": True, "rul_schedule": True, "rul_open_docs": True, "rul_export": True,
        "rul_js_only": False, "rul_edit_form": False, "rul_explode": True, "rul_run_flow": True,
    }  # fmt: skip


def test_list_for_a_record_evaluates_visible_and_disabled(admin_client):
    open_ticket = create(admin_client, subject="o", locked=True)
    closed = create(admin_client, subject="c", status="closed", close_reason="x")
    response = admin_client.get(ACTIONS, {"id": open_ticket["id"], "location": "record_header"})
    assert names(response) == ["rul_close", "rul_schedule", "rul_js_only", "rul_edit_form"]
    close = response.json()["actions"][0]
    assert (close["visible"], close["disabled"]) == (True, True)
    assert response.json()["id"] == open_ticket["id"]
    response = admin_client.get(ACTIONS, {"id": closed["id"], "location": "record_header"})
    assert names(response) == ["rul_schedule", "rul_js_only", "rul_edit_form"]


def test_list_honours_required_permissions(rul):
    reader = user_client(rul, "reader@rul.test", "rul_reader")
    exporter = user_client(rul, "exporter@rul.test", "rul_exporter")
    assert "rul_export" not in names(reader.get(ACTIONS))
    assert "rul_export" in names(exporter.get(ACTIONS))
    nobody = user_client(rul, "nobody@rul.test")
    error(nobody.get(ACTIONS), 403, "FORBIDDEN", "you may not read rul_ticket")


def test_list_global_actions_and_unknown_object(admin_client):
    response = admin_client.get("/api/v1/actions")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["actions"]] == ["rul_ping"]
    error(
        admin_client.get("/api/v1/actions/nope"), 404, "OBJECT_NOT_FOUND", "object 'nope' not found"
    )


# -- update -------------------------------------------------------------------------------


def test_update_action_patches_the_record_as_the_user(rul):
    client = user_client(rul, "editor@rul.test", "rul_editor")
    ticket = create(client, subject="t", score=4)
    response = client.post(
        f"{ACTIONS}/rul_close/{ticket['id']}", {"params": {"reason": "fixed"}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    record = body["result"]["record"]
    assert (record["status"], record["close_reason"], record["score"]) == ("closed", "fixed", 4)
    assert body == {
        "action": "rul_close",
        "object": "rul_ticket",
        "id": ticket["id"],
        "result": {"object": "rul_ticket", "id": ticket["id"], "record": record},
        "message": "Closed.",
        "refreshAfter": True,
    }
    assert record["updated_by"] == record["created_by"]  # written as the user
    rows = AuditEvent.objects.filter(record_id=ticket["id"]).order_by("seq")
    assert [r.action for r in rows] == ["create", "update", "action.run"]
    assert rows[1].changes == [["close_reason", None, "fixed"], ["status", "new", "closed"]]
    assert rows[2].actor == "editor@rul.test"
    assert rows[2].details == {
        "action": "rul_close",
        "type": "update",
        "ids": [ticket["id"]],
        "params": {"reason": "fixed"},
        "outcome": "done",
    }


def test_update_action_refusals(rul, admin_client):
    ticket = create(admin_client, subject="t")
    url = f"{ACTIONS}/rul_close/{ticket['id']}"
    error(
        admin_client.post(url, {"params": {}}, format="json"),
        400,
        "VALIDATION_FAILED",
        "invalid action parameters",
        fields=[{"field": "params.reason", "code": "required", "message": "reason is required"}],
    )
    error(
        admin_client.post(url, {"params": {"reason": "x", "color": "red"}}, format="json"),
        400,
        "VALIDATION_FAILED",
        "invalid action parameters",
        fields=[
            {
                "field": "params.color",
                "code": "unknown_param",
                "message": "the action has no parameter 'color'",
            }
        ],
    )
    reader = user_client(rul, "reader@rul.test", "rul_reader")
    error(
        reader.post(url, {"reason": "x"}, format="json"),
        403,
        "FORBIDDEN",
        "you may not edit rul_ticket",
    )
    missing = f"{ACTIONS}/rul_close/{'0' * 32}"
    error(
        admin_client.post(missing, {"reason": "x"}, format="json"),
        404, "NOT_FOUND", f"rul_ticket '{'0' * 32}' not found",
    )  # fmt: skip
    locked = create(admin_client, subject="l", locked=True)
    error(
        admin_client.post(f"{ACTIONS}/rul_close/{locked['id']}", {"reason": "x"}, format="json"),
        403, "ACTION_DISABLED", f"action 'rul_close' is disabled for rul_ticket '{locked['id']}'",
    )  # fmt: skip
    closed = create(admin_client, subject="c", status="closed", close_reason="x")
    error(
        admin_client.post(f"{ACTIONS}/rul_close/{closed['id']}", {"reason": "x"}, format="json"),
        403, "ACTION_NOT_AVAILABLE", f"action 'rul_close' is not available for rul_ticket '{closed['id']}'",
    )  # fmt: skip
    error(
        admin_client.post(f"{ACTIONS}/rul_nope/{ticket['id']}", {}, format="json"),
        404, "ACTION_NOT_FOUND", "no action 'rul_nope' on object rul_ticket",
    )  # fmt: skip
    assert admin_client.get(f"{DATA}/{ticket['id']}").json()["record"]["status"] == "new"


def test_update_action_runs_on_a_selection_all_or_nothing(admin_client):
    a = create(admin_client, subject="a")
    b = create(admin_client, subject="b", score=2)
    locked = create(admin_client, subject="l", locked=True)
    response = admin_client.post(
        f"{ACTIONS}/rul_close",
        {"params": {"reason": "bulk"}, "ids": [a["id"], b["id"]]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ids"] == [a["id"], b["id"]]
    assert [(r["id"], r["status"], r["score"]) for r in body["result"]["records"]] == [
        (a["id"], "closed", 0),
        (b["id"], "closed", 2),
    ]
    c = create(admin_client, subject="c")
    response = admin_client.post(
        f"{ACTIONS}/rul_close",
        {"params": {"reason": "bulk"}, "ids": [c["id"], locked["id"]]},
        format="json",
    )
    assert response.status_code == 403
    assert admin_client.get(f"{DATA}/{c['id']}").json()["record"]["status"] == "new"


# -- script, url, global ------------------------------------------------------------------


def test_script_action_calls_the_plugin_function_with_cleaned_params(rul):
    client = user_client(rul, "editor@rul.test", "rul_editor")
    ticket = create(client, subject="plan me")
    response = client.post(
        f"{ACTIONS}/rul_schedule/{ticket['id']}",
        {"params": {"when": "2026-12-01", "mode": "fast"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "action": "rul_schedule",
        "object": "rul_ticket",
        "id": ticket["id"],
        "result": {"subject": "plan me", "when": "2026-12-01", "slots": 1, "mode": "fast"},
        "refreshAfter": False,
    }
    assert client.get(f"{DATA}/{ticket['id']}").json()["record"]["start_date"] == "2026-12-01"
    error(
        client.post(
            f"{ACTIONS}/rul_schedule/{ticket['id']}",
            {"when": "someday", "mode": "warp"},
            format="json",
        ),
        400,
        "VALIDATION_FAILED",
        "invalid action parameters",
        fields=[
            {
                "field": "params.when",
                "code": "invalid_date",
                "message": "when: 'someday' is not an ISO-8601 date (YYYY-MM-DD)",
            },
            {
                "field": "params.mode",
                "code": "invalid_choice",
                "message": "mode: 'warp' is not one of: fast, slow",
            },
        ],
    )


def test_script_action_needs_edit_when_it_writes(rul, admin_client):
    ticket = create(admin_client, subject="t")
    reader = user_client(rul, "reader@rul.test", "rul_reader")
    error(
        reader.post(f"{ACTIONS}/rul_schedule/{ticket['id']}", {"when": "2026-12-01"}, format="json"),
        403, "FORBIDDEN", "you may not edit rul_ticket",
    )  # fmt: skip


def test_required_permissions_are_enforced(rul, admin_client):
    create(admin_client, subject="zz export")
    reader = user_client(rul, "reader@rul.test", "rul_reader")
    error(
        reader.post(f"{ACTIONS}/rul_export", {}, format="json"),
        403, "FORBIDDEN", "action 'rul_export' needs permission rul.export",
    )  # fmt: skip
    exporter = user_client(rul, "exporter@rul.test", "rul_exporter")
    response = exporter.post(f"{ACTIONS}/rul_export", {}, format="json")
    assert response.status_code == 200, response.content
    assert "zz export" in response.json()["result"]["subjects"]


def test_url_action_returns_the_filled_url(admin_client):
    ticket = create(admin_client, subject="a b&c")
    response = admin_client.post(f"{ACTIONS}/rul_open_docs/{ticket['id']}", {}, format="json")
    assert response.status_code == 200, response.content
    url = f"https://docs.example/tickets/{ticket['id']}?q=a%20b%26c"
    assert response.json() == {
        "action": "rul_open_docs",
        "object": "rul_ticket",
        "id": ticket["id"],
        "result": {"url": url},
        "refreshAfter": False,
        "url": url,
    }


def test_global_action(admin_client):
    response = admin_client.post(
        "/api/v1/actions/rul_ping", {"params": {"echo": "hi"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "action": "rul_ping",
        "object": None,
        "result": {"pong": "hi", "user": "admin@rul.test"},
        "refreshAfter": False,
    }
    event = AuditEvent.objects.filter(action="action.run").latest("seq")
    assert event.details["action"] == "rul_ping"
    error(
        admin_client.post("/api/v1/actions/rul_ping", {"ids": ["x"]}, format="json"),
        400, "VALIDATION_FAILED", "a global action takes no record ids", field="ids",
    )  # fmt: skip


def test_actions_that_cannot_run_here(admin_client):
    ticket = create(admin_client, subject="t")
    error(
        admin_client.post(f"{ACTIONS}/rul_js_only/{ticket['id']}", {}, format="json"),
        501,
        "ACTION_NOT_IMPLEMENTED",
        "script action 'rul_js_only' calls 'rul_js_only', which no plugin provides "
        "(JavaScript handlers are not run; register a Python function)",
    )
    error(
        admin_client.post(f"{ACTIONS}/rul_edit_form/{ticket['id']}", {}, format="json"),
        400,
        "ACTION_NOT_RUNNABLE",
        "action 'rul_edit_form' is a form action: the client opens it, nothing runs on the server",
    )
    before = AuditEvent.objects.filter(action="action.run").count()
    error(
        admin_client.post(f"{ACTIONS}/rul_explode/{ticket['id']}", {}, format="json"),
        422, "ACTION_FAILED", "action 'rul_explode' failed: the plugin broke",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="action.run").count() == before


def test_bad_bodies(admin_client):
    ticket = create(admin_client, subject="t")
    url = f"{ACTIONS}/rul_close/{ticket['id']}"
    error(
        admin_client.post(url, [1], format="json"),
        400,
        "VALIDATION_FAILED",
        "the body must be a JSON object",
    )
    error(
        admin_client.post(url, {"params": {"reason": "x"}, "extra": 1}, format="json"),
        400, "VALIDATION_FAILED", "unknown key 'extra': give params inside 'params'", field="extra",
    )  # fmt: skip
    error(
        admin_client.post(f"{ACTIONS}/rul_close", {"reason": "x", "ids": "abc"}, format="json"),
        400, "VALIDATION_FAILED", "ids must be a list of record ids", field="ids",
    )  # fmt: skip
    error(
        admin_client.post(url, {"params": "x"}, format="json"),
        400, "VALIDATION_FAILED", "params must be a JSON object", field="params",
    )  # fmt: skip


def test_flow_action_launches_a_job(admin_client):
    from apps.jobs.models import Job

    ticket = create(admin_client, subject="t")
    response = admin_client.post(
        f"{ACTIONS}/rul_run_flow/{ticket['id']}", {"params": {"note": "hello"}}, format="json"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job_id"])
    assert response.json() == {"job_id": job.id, "status": job.status}
    assert response["Location"] == f"/api/v1/jobs/{job.id}"
    assert (job.kind, job.func) == ("flow", "apps.automation.flows.tasks.run_flow")
    assert job.kwargs["flow"] == "rul_note_flow"
    assert job.kwargs["inputs"] == {
        "note": "hello",
        "recordId": ticket["id"],
        "ids": [ticket["id"]],
    }
    assert (job.kwargs["object_name"], job.kwargs["record_id"]) == ("rul_ticket", ticket["id"])
    event = AuditEvent.objects.filter(action="action.run", record_id=ticket["id"]).get()
    assert event.details["outcome"] == "launched"
