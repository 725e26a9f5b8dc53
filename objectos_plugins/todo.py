"""The todo example's server code in Python (artifact `todo-v17`).

The artifact names JavaScript handlers it does not carry (they were bundled into a
runtime module): the flow function `computeNextTaskDueDate`, the script actions'
targets (`completeTask`, `startTask`, `cloneTask`, `deferTask`, `setReminder`,
`massCompleteTasks`, `deleteCompletedTasks`, `exportTasksToCSV`) and the `task_logic`
hook. This plugin provides the same behaviour, through objectql as the acting user, so
record rules, validation and audit apply. Registered by the entry point
`objectos.plugins: todo`; `register(kernel)` does nothing for kernels without `todo_task`.

`task_logic` maps to a before-write hook (objectql's `BEFORE_WRITE` plans): on create an
empty priority becomes `normal`, an empty status `not_started`, and a subject containing
"spam" is refused (400, field `subject`, code `spam`); on update a move to `completed`
stamps `completed_date` (so the artifact's `completed_date_required` rule holds) and a
move away from it clears the date. Its `afterUpdate` part (a log line when a task is
completed) is a subscription to `data.todo_task.updated`.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import logging
from typing import Any

from django.utils import timezone

from apps.objectql import write
from apps.objectql.exceptions import ValidationFailed
from apps.objectql.params import QuerySpec
from apps.objectql.query import list_records
from apps.objectql.write import BEFORE_WRITE

logger = logging.getLogger("objectos.plugins.todo")
OBJECT = "todo_task"
COMPLETED = "completed"
CSV_COLUMNS = ("subject", "status", "priority", "category", "due_date")
PAGE = 500


# -- the flow function ----------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the target month's last day (Jan 31 + 1 month
    is Feb 28), like the platform's addMonths."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


STEPS = {
    "daily": lambda day, n: day + dt.timedelta(days=n),
    "weekly": lambda day, n: day + dt.timedelta(weeks=n),
    "monthly": _add_months,
    "yearly": lambda day, n: _add_months(day, 12 * n),
}


def compute_next_task_due_date(ctx: Any, inputs: dict[str, Any]) -> str | None:
    """Next due date of a recurring task: `dueDate` shifted by `interval` (default 1)
    `recurrenceType` units, as YYYY-MM-DD; None without a due date. An unknown type or an
    interval below 1 raises ValueError (a silent wrong cadence is worse)."""
    if isinstance(inputs.get("input"), dict):
        inputs = inputs["input"]
    due = inputs.get("dueDate")
    if due in (None, ""):
        return None
    try:
        day = due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due)[:10])
    except ValueError:
        raise ValueError(f"computeNextTaskDueDate: {due!r} is not a valid due date") from None
    kind = str(inputs.get("recurrenceType") or "").strip().lower()
    if kind not in STEPS:
        raise ValueError(
            f"computeNextTaskDueDate: unknown recurrence_type {inputs.get('recurrenceType')!r} "
            f"(expected one of {', '.join(STEPS)})"
        )
    interval = inputs.get("interval")
    try:
        steps = 1 if interval in (None, "") else int(float(interval))
    except (TypeError, ValueError):
        steps = 0
    if steps < 1:
        raise ValueError(
            f"computeNextTaskDueDate: recurrence_interval must be a number >= 1, got {interval!r}"
        )
    return STEPS[kind](day, steps).isoformat()


# -- the action scripts ---------------------------------------------------------------


def _set(ctx: Any, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return write.update_record(ctx, OBJECT, record_id, values)["record"]


def complete_task(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    record = _set(ctx, payload["recordId"], {"status": COMPLETED})
    return {
        "id": record["id"],
        "status": record["status"],
        "completed_date": record["completed_date"],
    }


def start_task(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    record = _set(ctx, payload["recordId"], {"status": "in_progress"})
    return {"id": record["id"], "status": record["status"]}


def defer_task(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    params = payload["params"]
    record = _set(
        ctx, payload["recordId"], {"due_date": params["new_due_date"], "status": "deferred"}
    )
    return {
        "id": record["id"],
        "status": record["status"],
        "due_date": record["due_date"],
        "reason": params.get("reason"),
    }


def set_reminder(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    record = _set(ctx, payload["recordId"], {"reminder_date": payload["params"]["reminder_date"]})
    return {"id": record["id"], "reminder_date": record["reminder_date"]}


CLONE_SKIPPED = frozenset({"status", "completed_date", "subject"})


def clone_task(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of the task, not started, named `Copy of <subject>`."""
    runtime = ctx.kernel.object(OBJECT)
    source = payload["record"]
    copy = {
        name: source[name]
        for name in runtime.writable
        if name in source
        and name not in CLONE_SKIPPED
        and source[name] is not None
        and not runtime.fields[name].definition.readonly
    }
    copy["subject"] = f"Copy of {source.get('subject') or 'Untitled'}"
    copy["status"] = "not_started"
    created = write.create_record(ctx, OBJECT, copy)
    return {"id": created["id"], "record": created["record"]}


def mass_complete_tasks(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    ids = payload.get("ids") or payload["params"].get("selectedIds") or []
    if not ids:
        raise ValidationFailed("select the tasks to complete", field="ids")
    write.update_many(ctx, OBJECT, [{"id": i, "status": COMPLETED} for i in ids])
    return {"completed": len(ids), "ids": ids}


def _all(ctx: Any, filters: list[Any], select: list[str] | None = None) -> list[dict[str, Any]]:
    """Every task the actor reads matching `filters`, page by page."""
    records: list[dict[str, Any]] = []
    while True:
        spec = QuerySpec(
            top=PAGE, skip=len(records), filters=filters, select=select,
            sort=[("created_at", False), ("id", False)], count=False,
        )  # fmt: skip
        page = list_records(ctx, OBJECT, spec)
        records.extend(page["records"])
        if not page["hasMore"]:
            return records


def delete_completed_tasks(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    ids = [r["id"] for r in _all(ctx, [{"status": COMPLETED}], ["id"])]
    if ids:
        write.delete_many(ctx, OBJECT, ids)
    return {"deleted": len(ids)}


def export_tasks_to_csv(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The tasks the actor reads (the selection when `ids` are given) as CSV text."""
    filters = [{"id": {"$in": payload["ids"]}}] if payload.get("ids") else []
    rows = _all(ctx, filters, list(CSV_COLUMNS))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
    return {
        "filename": "tasks.csv",
        "contentType": "text/csv",
        "rows": len(rows),
        "csv": out.getvalue(),
    }


# -- the task_logic hook --------------------------------------------------------------


def task_logic(
    ctx: Any, runtime: Any, event: str, values: dict[str, Any], previous: dict | None
) -> None:
    """Defaults and the completion stamp; see the module docstring."""
    if event == "insert":
        if not values.get("priority"):
            values["priority"] = "normal"
        if not values.get("status"):
            values["status"] = "not_started"
        subject = values.get("subject")
        if isinstance(subject, str) and "spam" in subject:
            raise ValidationFailed(
                "Spam tasks are not allowed",
                fields=[
                    {"field": "subject", "code": "spam", "message": "Spam tasks are not allowed"}
                ],
            )
        return
    if "status" not in values or previous is None:
        return
    if values["status"] == COMPLETED and previous.get("status") != COMPLETED:
        values["completed_date"] = timezone.now()
    elif values["status"] != COMPLETED and previous.get("status") == COMPLETED:
        values["completed_date"] = None


def log_completion(event: Any) -> None:
    """task_logic's afterUpdate: one log line when a task becomes completed."""
    record, previous = event.payload.get("record") or {}, event.payload.get("previous") or {}
    if record.get("status") == COMPLETED and previous.get("status") != COMPLETED:
        logger.info(
            "Task %s completed by %s",
            event.payload.get("id"),
            event.payload.get("user_id") or "unknown",
            extra={"request_id": event.request_id},
        )


FUNCTIONS = {
    "computeNextTaskDueDate": compute_next_task_due_date,
    "completeTask": complete_task,
    "startTask": start_task,
    "cloneTask": clone_task,
    "deferTask": defer_task,
    "setReminder": set_reminder,
    "massCompleteTasks": mass_complete_tasks,
    "deleteCompletedTasks": delete_completed_tasks,
    "exportTasksToCSV": export_tasks_to_csv,
}
# Script actions that change records: the actor must be able to edit them.
for _name in ("completeTask", "startTask", "deferTask", "setReminder", "massCompleteTasks"):
    FUNCTIONS[_name].writes = True  # type: ignore[attr-defined]


def register(kernel: Any) -> None:
    """Provide the todo app's functions and hook to kernels that serve `todo_task`."""
    if OBJECT not in kernel.objects:
        return
    for name, function in FUNCTIONS.items():
        kernel.register_function(name, function)
    hooks = kernel.objects[OBJECT].plans.setdefault(BEFORE_WRITE, [])
    if task_logic not in hooks:
        hooks.append(task_logic)
    kernel.subscribe(f"data.{OBJECT}.updated", log_completion, name="todo.task_logic")
