"""Nodes that pause a run: screen, approval, wait (timer) and a subflow waiting on its
child; resumed over HTTP (`POST /api/v1/automation/runs/<id>/resume`) or by the timer."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from apps.automation.flows import tasks
from apps.automation.models import FlowRun
from tests import factories


def trigger(client, flow: str, **body):
    return client.post(f"/api/v1/automation/{flow}/trigger", body, format="json")


def resume(client, run_id: str, body):
    return client.post(f"/api/v1/automation/runs/{run_id}/resume", body, format="json")


def test_screen_pauses_until_its_user_answers_then_continues(flw, member, member_client):
    started = trigger(member_client, "asker")
    assert started.status_code == 201, started.content
    run = started.json()
    assert run["status"] == "waiting" and run["currentNode"] == "ask"
    assert run["waiting"]["kind"] == "screen"
    assert run["waiting"]["screen"]["title"] == "Your task"
    assert [f["name"] for f in run["waiting"]["screen"]["fields"]] == ["answer", "level"]

    missing = resume(member_client, run["id"], {"inputs": {"level": "high"}})
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "'answer' is required", "code": "VALIDATION_FAILED", "field": "answer"
    }  # fmt: skip
    unknown = resume(member_client, run["id"], {"inputs": {"answer": "x", "colour": "red"}})
    assert unknown.status_code == 400 and unknown.json()["field"] == "colour"
    other = factories.make_user("other@flw.test", flw, permission_sets=["flw_member"])
    stranger = resume(factories.api_client(flw, other), run["id"], {"inputs": {"answer": "x"}})
    assert stranger.status_code == 404  # not their run: they do not even see it
    assert FlowRun.objects.get(pk=run["id"]).status == "waiting"

    done = resume(member_client, run["id"], {"inputs": {"answer": "Buy milk"}})
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "completed"
    record = member_client.get(f"/api/v1/data/flw_task/{body['outputs']['newId']}").json()
    assert (record["record"]["title"], record["record"]["priority"]) == ("Buy milk", "low")
    assert [(s["node"], s["outcome"]) for s in body["trace"]] == [
        ("start", "completed"),
        ("ask", "waiting"),
        ("ask", "resumed"),
        ("make", "completed"),
        ("end", "completed"),
    ]
    again = resume(member_client, run["id"], {"inputs": {"answer": "x"}})
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"


def test_approval_is_decided_by_the_named_approvers_only(flw, member, member_client):
    manager = factories.make_user("boss@flw.test", flw, positions=["manager"])
    run = trigger(member_client, "approve_it").json()
    assert run["status"] == "waiting"
    assert run["waiting"]["approvers"] == [manager.pk]
    # the run's own user is no approver: 403, and nothing changes
    refused = resume(member_client, run["id"], {"decision": "approve"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    boss = factories.api_client(flw, manager)
    awaiting = boss.get("/api/v1/automation/runs?awaiting=me").json()
    assert [r["id"] for r in awaiting["runs"]] == [run["id"]]
    bad = resume(boss, run["id"], {"decision": "maybe"})
    assert bad.status_code == 400 and bad.json()["field"] == "decision"
    decided = resume(boss, run["id"], {"decision": "reject", "comment": "too costly"})
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "completed"
    assert "variables" not in decided.json()  # the approver does not see the run's data
    stored = FlowRun.objects.get(pk=run["id"])
    assert stored.outputs == {"result": "rejected"}
    assert stored.variables["review"]["decision"] == "reject"
    assert stored.variables["review"]["comment"] == "too costly"
    assert stored.trace[2]["by"] == manager.pk and stored.trace[2]["branch"] == "reject"


def test_unanimous_approval_waits_for_every_approver(flw, member_client):
    first = factories.make_user("first@flw.test", flw)
    second = factories.make_user("second@flw.test", flw)
    run = trigger(
        member_client, "approve_all", inputs={"first": first.email, "second": str(second.pk)}
    ).json()
    assert sorted(run["waiting"]["approvers"]) == sorted([first.pk, second.pk])
    one = resume(factories.api_client(flw, first), run["id"], {"decision": "approve"})
    assert one.json()["status"] == "waiting"
    twice = resume(factories.api_client(flw, first), run["id"], {"decision": "approve"})
    assert twice.status_code == 409
    two = resume(factories.api_client(flw, second), run["id"], {"decision": "approved"})
    assert two.json()["status"] == "completed"
    assert FlowRun.objects.get(pk=run["id"]).outputs == {"result": "approved"}


def test_wait_node_pauses_and_a_scheduled_task_resumes_it_when_due(flw, member_client):
    before = timezone.now()
    run = trigger(member_client, "waiter").json()
    assert run["status"] == "waiting" and run["waiting"]["kind"] == "wait"
    schedule = Schedule.objects.get(name=f"objectos.flow.wait.{run['id']}")
    assert schedule.func == "apps.automation.flows.tasks.resume_waiting"
    assert schedule.schedule_type == Schedule.ONCE
    assert (
        before + timedelta(seconds=59)
        <= schedule.next_run
        <= timezone.now() + timedelta(seconds=61)
    )
    # people cannot skip a timer, and the scheduler does not resume it early
    assert resume(member_client, run["id"], {}).status_code == 403
    assert tasks.resume_waiting(run["id"]).startswith("not resumed: the run waits until")
    stored = FlowRun.objects.get(pk=run["id"])
    stored.waiting["until"] = (timezone.now() - timedelta(seconds=1)).isoformat()
    stored.save()
    assert tasks.resume_waiting(run["id"]) == "completed"
    assert FlowRun.objects.get(pk=run["id"]).outputs == {"woke": True}


def test_a_subflow_that_pauses_makes_its_parent_wait_then_continue(flw, member_client):
    manager = factories.make_user("boss@flw.test", flw, positions=["manager"])
    parent = trigger(member_client, "signoff_parent").json()
    assert parent["status"] == "waiting" and parent["waiting"]["kind"] == "subflow"
    child_id = parent["waiting"]["child"]
    child = FlowRun.objects.get(pk=child_id)
    assert (child.flow, child.status, child.parent_id) == ("signoff_child", "waiting", parent["id"])
    done = resume(factories.api_client(flw, manager), child_id, {"decision": "approve"})
    assert done.json()["status"] == "completed"
    finished = FlowRun.objects.get(pk=parent["id"])
    assert finished.status == "completed"
    assert finished.outputs == {"final": "approve"}


def test_waiting_runs_can_be_cancelled_by_their_user(flw, member_client):
    run = trigger(member_client, "asker").json()
    cancelled = member_client.post(f"/api/v1/automation/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert resume(member_client, run["id"], {"inputs": {"answer": "x"}}).status_code == 409
