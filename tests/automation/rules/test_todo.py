"""The todo example (../shared/artifacts/todo-v17) served with its Python plugin
(objectos_plugins.todo): validation rules, the task_logic hook and every action."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from apps.audit.models import AuditEvent
from objectos_plugins.todo import compute_next_task_due_date
from tests import factories

pytestmark = pytest.mark.django_db

DATA = "/api/v1/data/todo_task"
ACTIONS = "/api/v1/actions/todo_task"


@pytest.fixture
def client(todo):
    return factories.api_client(todo, factories.make_user("admin@todo.test", todo, superuser=True))


def task(client, **values) -> dict:
    response = client.post(DATA, {"subject": "task", **values}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["record"]


def run(client, action: str, record_id: str | None = None, status: int = 200, **body) -> dict:
    url = f"{ACTIONS}/{action}" + (f"/{record_id}" if record_id else "")
    response = client.post(url, body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def test_the_plugin_is_loaded_into_the_todo_kernel(client):
    from apps.kernel.cache import kernels

    client.get(DATA)
    kernel = next(k for k in kernels._kernels.values() if k.project_name == "todo")
    assert "todo (objectos_plugins.todo)" in kernel.plugins
    assert {"computeNextTaskDueDate", "completeTask", "exportTasksToCSV"} <= set(kernel.functions)
    listed = client.get(ACTIONS).json()["actions"]
    assert [(a["name"], a["runnable"]) for a in listed] == [
        ("clone_task", True), ("complete_task", True), ("defer_task", True),
        ("delete_completed", True), ("export_csv", True), ("mass_complete", True),
        ("set_reminder", True), ("start_task", True),
    ]  # fmt: skip


# -- validation rules and the task_logic hook -----------------------------------------


def test_completed_date_required_rule(client):
    response = client.post(DATA, {"subject": "done", "status": "completed"}, format="json")
    assert response.status_code == 400
    message = "Completed date is required when status is Completed"
    assert response.json() == {
        "error": message,
        "code": "VALIDATION_FAILED",
        "fields": [
            {
                "field": "completed_date",
                "code": "rule_violated",
                "message": message,
                "rule": "completed_date_required",
            }
        ],
    }
    record = task(client, status="completed", completed_date="2026-11-01T10:00:00Z")
    assert record["completed_date"] == "2026-11-01T10:00:00.000Z"


def test_recurrence_fields_required_rule(client):
    response = client.post(DATA, {"subject": "again", "is_recurring": True}, format="json")
    message = "Recurrence type is required for recurring tasks"
    assert response.status_code == 400
    assert response.json() == {
        "error": message,
        "code": "VALIDATION_FAILED",
        "fields": [
            {
                "field": "recurrence_type",
                "code": "rule_violated",
                "message": message,
                "rule": "recurrence_fields_required",
            }
        ],
    }
    assert task(client, is_recurring=True, recurrence_type="weekly")["recurrence_type"] == "weekly"


def test_task_logic_stamps_and_clears_the_completed_date(client):
    record = task(client)
    assert (record["status"], record["priority"], record["completed_date"]) == (
        "not_started",
        "low",
        None,
    )
    response = client.patch(f"{DATA}/{record['id']}", {"status": "completed"}, format="json")
    assert response.status_code == 200, response.content
    completed = response.json()["record"]["completed_date"]
    assert completed is not None and completed.endswith("Z")
    response = client.patch(f"{DATA}/{record['id']}", {"status": "in_progress"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["record"]["completed_date"] is None


def test_task_logic_refuses_spam(client):
    response = client.post(DATA, {"subject": "buy spam now"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Spam tasks are not allowed",
        "code": "VALIDATION_FAILED",
        "fields": [{"field": "subject", "code": "spam", "message": "Spam tasks are not allowed"}],
    }


# -- actions ---------------------------------------------------------------------------


def test_complete_and_start_task(client):
    record = task(client)
    body = run(client, "complete_task", record["id"])
    assert body["result"]["status"] == "completed"
    assert body["result"]["completed_date"].endswith("Z")
    assert body["message"] == "Task marked as complete!"
    assert run(client, "start_task", record["id"])["result"] == {
        "id": record["id"],
        "status": "in_progress",
    }
    stored = client.get(f"{DATA}/{record['id']}").json()["record"]
    assert (stored["status"], stored["completed_date"]) == ("in_progress", None)
    actions = list(
        AuditEvent.objects.filter(action="action.run", record_id=record["id"])
        .order_by("seq")
        .values_list("details__action", flat=True)
    )
    assert actions == ["complete_task", "start_task"]


def test_defer_task_validates_and_applies_its_params(client):
    record = task(client)
    body = run(client, "defer_task", record["id"], status=400)
    assert body["fields"] == [
        {"field": "params.new_due_date", "code": "required", "message": "new_due_date is required"}
    ]
    body = run(
        client,
        "defer_task",
        record["id"],
        params={"new_due_date": "2026-12-24", "reason": "holidays"},
    )
    assert body["result"] == {
        "id": record["id"],
        "status": "deferred",
        "due_date": "2026-12-24",
        "reason": "holidays",
    }


def test_set_reminder(client):
    record = task(client)
    body = run(client, "set_reminder", record["id"], reminder_date="2026-12-01T09:30:00Z")
    assert body["result"] == {"id": record["id"], "reminder_date": "2026-12-01T09:30:00.000Z"}


def test_clone_task(client):
    source = task(
        client, subject="Write report", priority="high", category="work", status="in_progress"
    )
    body = run(client, "clone_task", source["id"])
    clone = body["result"]["record"]
    assert body["result"]["id"] == clone["id"] != source["id"]
    assert (clone["subject"], clone["status"], clone["priority"], clone["category"]) == (
        "Copy of Write report", "not_started", "high", "work",
    )  # fmt: skip


def test_mass_complete_and_export_a_selection(client):
    a, b = task(client, subject="alpha", due_date="2026-12-01"), task(client, subject="beta,gamma")
    body = run(client, "mass_complete", ids=[a["id"], b["id"]])
    assert body["result"] == {"completed": 2, "ids": [a["id"], b["id"]]}
    body = run(client, "export_csv", ids=[a["id"], b["id"]])
    result = body["result"]
    assert (result["filename"], result["contentType"], result["rows"]) == (
        "tasks.csv",
        "text/csv",
        2,
    )
    assert list(csv.reader(io.StringIO(result["csv"]))) == [
        ["subject", "status", "priority", "category", "due_date"],
        ["alpha", "completed", "low", "", "2026-12-01"],
        ["beta,gamma", "completed", "low", "", ""],
    ]


def test_export_everything_and_delete_completed(client):
    everything = client.get(DATA, {"top": 500}).json()["total"]
    assert run(client, "export_csv")["result"]["rows"] == everything
    completed = client.get(DATA, {"status": "completed"}).json()["total"]
    assert completed >= 2  # two seeded tasks are completed
    assert run(client, "delete_completed")["result"] == {"deleted": completed}
    assert client.get(DATA, {"status": "completed"}).json()["total"] == 0
    assert client.get(DATA).json()["total"] == everything - completed


# -- the flow function -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "kind", "interval", "expected"),
    [
        ("2026-01-31", "daily", 1, "2026-02-01"),
        ("2026-01-31", "weekly", 2, "2026-02-14"),
        ("2026-01-31", "monthly", 1, "2026-02-28"),
        ("2024-02-29", "yearly", 1, "2025-02-28"),
        ("2026-03-15", "Monthly", None, "2026-04-15"),
        (dt.date(2026, 12, 31), "monthly", "2", "2027-02-28"),
        (None, "daily", 1, None),
    ],
)
def test_compute_next_task_due_date(due, kind, interval, expected):
    inputs = {"dueDate": due, "recurrenceType": kind, "interval": interval}
    assert compute_next_task_due_date(None, inputs) == expected
    assert compute_next_task_due_date(None, {"input": inputs}) == expected


def test_compute_next_task_due_date_refuses_to_guess():
    with pytest.raises(ValueError, match="unknown recurrence_type 'hourly'"):
        compute_next_task_due_date(None, {"dueDate": "2026-01-01", "recurrenceType": "hourly"})
    with pytest.raises(ValueError, match="must be a number >= 1, got 0"):
        compute_next_task_due_date(
            None, {"dueDate": "2026-01-01", "recurrenceType": "daily", "interval": 0}
        )


def test_the_task_completion_flow_uses_the_plugin_function(client, todo):
    """The artifact's record-triggered flow, run now: its script node calls
    computeNextTaskDueDate and the next occurrence is created a week later."""
    from apps.automation import flows
    from apps.kernel.cache import kernels
    from apps.projects.context import Context

    record = task(
        client,
        subject="water plants",
        is_recurring=True,
        recurrence_type="weekly",
        due_date="2026-11-20",
    )
    done = client.patch(f"{DATA}/{record['id']}", {"status": "completed"}, format="json").json()[
        "record"
    ]
    kernel = kernels.get_version(todo.name, todo.published_version_id)
    user = factories.make_user("admin@todo.test", todo, superuser=True)
    ctx = Context(
        request_id="flow-test", project_id=todo.pk, project_name=todo.name, kernel=kernel, user=user
    )
    run = flows.run(ctx, "task_completion", {}, record=done, previous=record)
    assert run.status == "completed", run.__dict__
    following = client.get(DATA, {"subject": "water plants", "status": "not_started"}).json()[
        "records"
    ]
    assert [(r["due_date"], r["recurrence_type"], r["is_recurring"]) for r in following] == [
        ("2026-11-27", "weekly", True)
    ]
