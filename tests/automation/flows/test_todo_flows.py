"""The todo example's flows (../shared/artifacts/todo-v17), with its plugin functions
(objectos_plugins.todo): the record-triggered recurrence, both scheduled sweeps and the
quick-add screen flow."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.automation.models import FlowRun, Notification
from apps.jobs.models import Job
from apps.jobs.runner import run_delivery
from tests import factories

DATA = "/api/v1/data/todo_task"


@pytest.fixture
def admin(todo):
    return factories.make_user("admin@todo.test", todo, superuser=True)


@pytest.fixture
def client(todo, admin):
    return factories.api_client(todo, admin)


def task(client, **values) -> dict:
    response = client.post(DATA, {"subject": "task", **values}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["record"]


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


EARLIER: set[str] = set()


@pytest.fixture(autouse=True)
def _earlier_jobs(db):
    """Flow jobs other tests committed (transactional ones) are not this test's."""
    EARLIER.clear()
    EARLIER.update(Job.objects.filter(kind="flow").values_list("pk", flat=True))


def run_flow_jobs() -> list[FlowRun]:
    runs = []
    for job in (
        Job.objects.filter(kind="flow", status="submitted")
        .exclude(pk__in=EARLIER)
        .order_by("created_at")
    ):
        assert run_delivery(job.id, "", 1) == "completed"
        job.refresh_from_db()
        runs.append(FlowRun.objects.get(pk=job.result["run_id"]))
    return runs


def complete(client, record_id, capture):
    with capture(execute=True):
        response = client.patch(
            f"{DATA}/{record_id}",
            {"status": "completed"},
            format="json",
        )
    assert response.status_code == 200, response.content


def test_completing_a_recurring_task_creates_the_next_one(
    client, admin, django_capture_on_commit_callbacks
):
    due = today()
    first = task(client, subject="Water plants", status="in_progress", priority="high",
                 category="personal", owner=str(admin.pk), is_recurring=True,
                 recurrence_type="weekly", recurrence_interval=2, due_date=due.isoformat())  # fmt: skip
    complete(client, first["id"], django_capture_on_commit_callbacks)
    (run,) = run_flow_jobs()
    assert (run.flow, run.status, run.run_as) == ("task_completion", "completed", "user"), run.error
    assert [s["node"] for s in run.trace] == [
        "start", "get_task", "check_recurring", "compute_next_due_date", "create_next_task", "end"
    ]  # fmt: skip
    next_due = (due + dt.timedelta(days=14)).isoformat()
    assert run.variables["nextDueDate"] == next_due
    created = client.get(f"{DATA}/{run.variables['newTaskId']}").json()["record"]
    assert {k: created[k] for k in ("subject", "status", "priority", "category", "owner",
                                    "is_recurring", "recurrence_type", "due_date")} == {
        "subject": "Water plants", "status": "not_started", "priority": "high",
        "category": "personal", "owner": admin.pk, "is_recurring": True,
        "recurrence_type": "weekly", "due_date": next_due,
    }  # fmt: skip


def test_completing_a_one_off_task_takes_the_no_branch(client, django_capture_on_commit_callbacks):
    one = task(client, subject="Call mum", status="in_progress", priority="normal")
    before = client.get(DATA).json()["total"]
    complete(client, one["id"], django_capture_on_commit_callbacks)
    (run,) = run_flow_jobs()
    assert run.status == "completed", run.error
    assert [s["node"] for s in run.trace] == ["start", "get_task", "check_recurring", "end"]
    assert client.get(DATA).json()["total"] == before
    # an update that does not complete the task launches nothing
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"{DATA}/{one['id']}", {"priority": "low"}, format="json")
    assert run_flow_jobs() == []


def test_task_reminder_notifies_owners_of_tasks_due_tomorrow(client, todo, admin):
    owner = factories.make_user("ann@todo.test", todo)
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    task(client, subject="Pay rent", priority="urgent", status="not_started", owner=str(owner.pk),
         due_date=tomorrow)  # fmt: skip
    task(client, subject="Later", priority="low", status="not_started", owner=str(owner.pk),
         due_date=(today() + dt.timedelta(days=9)).isoformat())  # fmt: skip
    response = client.post("/api/v1/automation/task_reminder/trigger", {}, format="json")
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["status"] == "completed", run["error"]
    notes = list(Notification.objects.filter(flow_run_id=run["id"]))
    assert [(n.recipient_id, n.title, n.message) for n in notes] == [
        (owner.pk, "Task due tomorrow: Pay rent", f"Due {tomorrow} · priority urgent.")
    ]


def test_overdue_escalation_raises_priority_and_alerts(client, todo, admin):
    owner = factories.make_user("bob@todo.test", todo)
    late = task(client, subject="Tax return", priority="normal", status="in_progress",
                owner=str(owner.pk), due_date=(today() - dt.timedelta(days=5)).isoformat())  # fmt: skip
    recent = task(client, subject="Fresh", priority="normal", status="in_progress",
                  owner=str(owner.pk), due_date=(today() - dt.timedelta(days=1)).isoformat())  # fmt: skip
    run = client.post("/api/v1/automation/overdue_escalation/trigger", {}, format="json").json()
    assert run["status"] == "completed", run["error"]
    escalated = client.get(f"{DATA}/{late['id']}").json()["record"]
    assert escalated["priority"] == "urgent"
    assert client.get(f"{DATA}/{recent['id']}").json()["record"]["priority"] == "normal"
    (note,) = Notification.objects.filter(flow_run_id=run["id"])
    assert (note.recipient_id, note.severity, note.title) == (
        owner.pk, "critical", "URGENT: task overdue — Tax return",
    )  # fmt: skip
    assert (note.source_object, note.source_id) == ("todo_task", late["id"])


def test_quick_add_task_screen_flow(client, admin):
    started = client.post(
        "/api/v1/automation/quick_add_task/trigger", {"inputs": {"priority": "high"}},
        format="json",
    ).json()  # fmt: skip
    assert started["status"] == "waiting" and started["currentNode"] == "screen_1"
    fields = started["waiting"]["screen"]["fields"]
    assert [f["name"] for f in fields] == ["subject", "priority", "dueDate", "category"]
    assert fields[1]["defaultValue"] == "normal"
    answer = {"subject": "Buy bread", "dueDate": "2026-12-01", "category": "shopping"}
    shown = client.post(
        f"/api/v1/automation/runs/{started['id']}/resume", {"inputs": answer}, format="json"
    ).json()
    assert shown["status"] == "waiting" and shown["currentNode"] == "success_screen"
    assert shown["waiting"]["screen"]["description"] == 'Task "Buy bread" created successfully!'
    created = client.get(f"{DATA}/{shown['variables']['newTaskId']}").json()["record"]
    assert {k: created[k] for k in ("subject", "priority", "due_date", "category", "owner")} == {
        "subject": "Buy bread", "priority": "high", "due_date": "2026-12-01",
        "category": "shopping", "owner": admin.pk,
    }  # fmt: skip
    done = client.post(f"/api/v1/automation/runs/{started['id']}/resume", {}, format="json")
    assert done.json()["status"] == "completed"


def test_only_the_active_record_flow_subscribes_and_no_todo_flow_is_scheduled(client):
    from django_q.models import Schedule

    from apps.kernel.cache import kernels

    client.get(DATA)
    kernel = next(k for k in kernels.cached() if k.project_name == "todo")
    names = {s.name for s in kernel.topics.match("data.todo_task.updated")}
    assert "flow:task_completion" in names
    assert not Schedule.objects.filter(name__startswith="objectos.flow.todo.").exists()
