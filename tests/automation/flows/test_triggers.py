"""Triggers: record changes (data events -> condition -> a job running the flow), the
schedule trigger (django-q2 schedules per project) and the API trigger route."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from apps.automation.flows import schedules, tasks
from apps.automation.models import FlowRun, Notification
from apps.jobs.models import Job
from apps.jobs.runner import run_delivery
from tests import factories
from tests.automation.flows.app import artifact
from tests.automation.flows.conftest import context


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a write as if it committed: events are delivered, jobs enqueued."""

    def write(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return write


EARLIER: set[str] = set()


@pytest.fixture(autouse=True)
def _earlier_jobs(db):
    """Flow jobs other tests committed (transactional ones) are not this test's."""
    EARLIER.clear()
    EARLIER.update(Job.objects.filter(kind="flow").values_list("pk", flat=True))


def run_flow_jobs() -> list[Job]:
    jobs = list(
        Job.objects.filter(kind="flow", status="submitted")
        .exclude(pk__in=EARLIER)
        .order_by("created_at")
    )
    for job in jobs:
        assert run_delivery(job.id, "", 1) == "completed"
        job.refresh_from_db()
    return jobs


def test_record_update_matching_the_condition_runs_the_flow_as_the_user(
    flw, member, member_client, committed
):
    assignee = factories.make_user("doer@flw.test", flw, permission_sets=["flw_member"])
    created = member_client.post(
        "/api/v1/data/flw_task", {"title": "Ship", "status": "open", "assignee": assignee.pk},
        format="json",
    ).json()  # fmt: skip
    task_id = created["id"]
    assert run_flow_jobs() == []  # no flow triggers on this create
    # a change that does not meet the condition launches nothing
    committed(lambda: member_client.patch(f"/api/v1/data/flw_task/{task_id}", {"notes": "x"}))
    assert run_flow_jobs() == []
    response = committed(
        lambda: member_client.patch(
            f"/api/v1/data/flw_task/{task_id}", {"status": "done"}, format="json"
        )
    )
    assert response.status_code == 200
    (job,) = run_flow_jobs()
    assert (job.status, job.user_id, job.is_system) == ("completed", member.pk, False)
    run = FlowRun.objects.get(pk=job.result["run_id"])
    assert (run.flow, run.status, run.trigger) == ("on_done", "completed", "record.updated")
    assert (run.user_id, run.object_name, run.record_id) == (member.pk, "flw_task", task_id)
    assert run.variables["previous"]["status"] == "open"
    logs = member_client.get("/api/v1/data/flw_log").json()["records"]
    assert [(r["message"], r["task"], r["created_by"]) for r in logs] == [
        ("done: Ship", task_id, member.pk)
    ]
    note = Notification.objects.get(flow_run=run)
    assert (note.recipient_id, note.title, note.message) == (
        assignee.pk, "Done: Ship", "by member@flw.test",
    )  # fmt: skip
    assert (note.source_object, note.source_id) == ("flw_task", task_id)


def test_record_create_and_delete_trigger_system_flows(flw, member, member_client, committed):
    high = committed(
        lambda: member_client.post(
            "/api/v1/data/flw_task", {"title": "Hot", "priority": "high"}, format="json"
        )
    ).json()
    committed(
        lambda: member_client.post(
            "/api/v1/data/flw_task", {"title": "Cold", "priority": "low"}, format="json"
        )
    )
    (job,) = run_flow_jobs()
    run = FlowRun.objects.get(pk=job.result["run_id"])
    assert (run.flow, run.run_as, run.status) == ("on_create_score", "system", "completed")
    assert member_client.get(f"/api/v1/data/flw_task/{high['id']}").json()["record"]["score"] == 10
    committed(lambda: member_client.delete(f"/api/v1/data/flw_task/{high['id']}"))
    (job,) = run_flow_jobs()
    run = FlowRun.objects.get(pk=job.result["run_id"])
    assert (run.flow, run.trigger, run.status) == ("on_delete_log", "record.deleted", "completed")
    ctx = context(flw, system=True)
    from apps.objectql.params import QuerySpec
    from apps.objectql.query import list_records

    logs = list_records(ctx, "flw_log", QuerySpec(top=10))["records"]
    assert [(r["message"], r["created_by"]) for r in logs] == [("deleted: Hot", None)]


def test_only_active_record_flows_subscribe(flw):
    kernel = context(flw).kernel
    names = {s.name for topic in ("created", "updated", "deleted")
             for s in kernel.topics.match(f"data.flw_task.{topic}")}  # fmt: skip
    assert names == {
        "flow:on_done", "flow:on_create_score", "flow:on_delete_log", "flow:bounce"
    }  # fmt: skip


def test_schedule_flows_get_one_django_q_schedule_per_project(flw, flw_admin):
    kernel = context(flw).kernel
    Schedule.objects.filter(name__startswith="objectos.flow.flw.").delete()
    assert schedules.sync_schedules(kernel) == {"daily": "created"}
    assert schedules.sync_schedules(kernel) == {"daily": "unchanged"}
    schedule = Schedule.objects.get(name="objectos.flow.flw.daily")
    assert (schedule.func, schedule.cron, schedule.schedule_type, schedule.args) == (
        "apps.automation.flows.tasks.run_scheduled", "0 8 * * *", Schedule.CRON,
        "('flw', 'daily')",
    )  # fmt: skip
    Schedule.objects.create(name="objectos.flow.flw.gone", func=schedules.TASK, args="()")
    assert schedules.sync_schedules(kernel) == {"gone": "removed", "daily": "unchanged"}
    assert tasks.run_scheduled("flw", "daily") == "completed"
    assert tasks.run_scheduled("flw", "decide") == "no longer scheduled"
    run = FlowRun.objects.get(flow="daily")
    assert (run.trigger, run.run_as, run.user_id) == ("schedule", "system", None)
    assert Notification.objects.get(flow_run=run).recipient_id == flw_admin.pk


def test_api_trigger_checks_the_flow_the_body_and_who_may_trigger(flw, member_client, admin_client):
    unknown = member_client.post("/api/v1/automation/nope/trigger", {}, format="json")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no flow named 'nope'", "code": "FLOW_NOT_FOUND"}
    draft = member_client.post("/api/v1/automation/drafty/trigger", {}, format="json")
    assert draft.status_code == 403 and draft.json()["code"] == "FORBIDDEN"
    assert (
        admin_client.post("/api/v1/automation/drafty/trigger", {}, format="json").status_code == 201
    )
    key = member_client.post("/api/v1/automation/decide/trigger", {"input": {}}, format="json")
    assert key.status_code == 400
    assert key.json() == {"error": "unknown key 'input'", "code": "INVALID_FIELD", "field": "input"}
    undeclared = member_client.post(
        "/api/v1/automation/decide/trigger", {"inputs": {"size": "x"}}, format="json"
    )
    assert undeclared.status_code == 400 and undeclared.json()["field"] == "inputs.size"
    missing = member_client.post(
        "/api/v1/automation/decide/trigger", {"recordId": "0" * 32, "objectName": "flw_task"},
        format="json",
    )  # fmt: skip
    assert missing.status_code == 404
    ok = member_client.post("/api/v1/automation/decide/trigger", {"inputs": {"amount": 500}},
                            format="json")  # fmt: skip
    assert ok.status_code == 201
    assert (ok.json()["status"], ok.json()["outputs"]) == ("completed", {"size": "big"})
    anonymous = factories.api_client(flw).post("/api/v1/automation/decide/trigger", {},
                                               format="json")  # fmt: skip
    assert anonymous.status_code == 401


def test_api_trigger_in_the_background_answers_202_with_the_job(flw, member_client, committed):
    response = committed(
        lambda: member_client.post(
            "/api/v1/automation/decide/trigger",
            {"inputs": {"amount": 1}, "background": True},
            format="json",
        )
    )
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert response["Location"] == f"/api/v1/jobs/{job_id}"
    (job,) = run_flow_jobs()
    assert job.id == job_id
    run = FlowRun.objects.get(pk=job.result["run_id"])
    assert (run.trigger, run.outputs) == ("api", {"size": "small"})


def test_runs_are_listed_for_their_user_and_for_admins(flw, member, member_client, admin_client):
    body = {"inputs": {"amount": 1}}
    mine = member_client.post("/api/v1/automation/decide/trigger", body, format="json").json()
    admin_client.post("/api/v1/automation/decide/trigger", body, format="json")
    listed = member_client.get("/api/v1/automation/runs").json()
    assert [r["id"] for r in listed["runs"]] == [mine["id"]] and listed["total"] == 1
    assert admin_client.get("/api/v1/automation/runs?flow=decide").json()["total"] == 2
    detail = member_client.get(f"/api/v1/automation/runs/{mine['id']}").json()
    assert [s["node"] for s in detail["trace"]] == ["start", "decide", "small", "end"]
    other = factories.make_user("other@flw.test", flw, permission_sets=["flw_member"])
    hidden = factories.api_client(flw, other).get(f"/api/v1/automation/runs/{mine['id']}")
    assert hidden.status_code == 404


def test_flows_that_keep_triggering_each_other_stop_after_max_chain(flw, member_client, committed):
    from apps.automation.flows.triggers import MAX_CHAIN

    task = member_client.post("/api/v1/data/flw_task", {"title": "Ping"}, format="json").json()
    committed(
        lambda: member_client.patch(
            f"/api/v1/data/flw_task/{task['id']}", {"bounce": 0}, format="json"
        )
    )
    runs = 0
    while True:  # each run's update commits and launches the next one, up to MAX_CHAIN
        jobs = committed(run_flow_jobs)
        if not jobs:
            break
        runs += len(jobs)
        assert runs <= MAX_CHAIN
    assert runs == MAX_CHAIN
    record = member_client.get(f"/api/v1/data/flw_task/{task['id']}").json()["record"]
    assert record["bounce"] == MAX_CHAIN


@pytest.mark.django_db(transaction=True)
def test_seed_data_of_a_published_version_triggers_no_flow():
    """Seed rows are the app's starting state: publishing writes them without data
    events, so the active create-triggered flow (priority high) launches nothing."""
    from apps.kernel.models import OutboxEvent

    raw = artifact()
    raw["data"] = [{"object": "flw_task", "records": [{"title": "Seeded", "priority": "high"}]}]
    events_before = set(OutboxEvent.objects.values_list("pk", flat=True))
    project = factories.publish_artifact("flwseed", raw)
    assert project.published_version_id is not None
    assert not Job.objects.filter(kind="flow").exclude(pk__in=EARLIER).exists()
    topics = list(OutboxEvent.objects.exclude(pk__in=events_before).values_list("topic", flat=True))
    assert topics == ["artifact.published"]


def test_a_redelivered_event_launches_its_flow_once(flw, member_client, committed):
    """Events are delivered at least once: delivering the same outbox row again finds the
    job its first delivery submitted (the event's idempotency key) and launches nothing."""
    from apps.kernel.events import broker
    from apps.kernel.models import OutboxEvent

    created = committed(
        lambda: member_client.post(
            "/api/v1/data/flw_task", {"title": "Hot", "priority": "high"}, format="json"
        )
    )
    assert created.status_code == 201
    jobs = Job.objects.filter(kind="flow").exclude(pk__in=EARLIER)
    assert jobs.count() == 1
    event = OutboxEvent.objects.get(topic="data.flw_task.created", payload__id=created.json()["id"])
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)
    assert committed(lambda: broker.deliver(event.pk)) is True
    assert jobs.count() == 1
    (job,) = run_flow_jobs()
    assert job.status == "completed"
