"""The engine run synchronously (flows.run): control nodes, records, scripts, loops,
subflows, failures and their rollback, each run's stored trace."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.automation import flows
from apps.automation.flows.exceptions import FlowNotFound
from apps.automation.models import FlowRun
from apps.objectql import write
from apps.objectql.params import QuerySpec
from apps.objectql.query import list_records
from tests.automation.flows.conftest import context


def logs(ctx) -> list[str]:
    rows = list_records(ctx, "flw_log", QuerySpec(top=100, sort=[("created_at", False)]))
    return [r["message"] for r in rows["records"]]


def test_decision_takes_the_edge_whose_condition_holds_else_the_default(flw, flw_admin):
    ctx = context(flw, flw_admin)
    big = flows.run(ctx, "decide", {"amount": 150})
    small = flows.run(ctx, "decide", {"amount": 5})
    assert (big.status, big.outputs) == ("completed", {"size": "big"})
    assert small.outputs == {"size": "small"}
    assert [step["node"] for step in big.trace] == ["start", "decide", "big", "end"]
    assert [step["node"] for step in small.trace] == ["start", "decide", "small", "end"]
    stored = FlowRun.objects.get(pk=big.id)
    assert stored.status == "completed" and stored.ended_at is not None
    assert stored.trace[2] | {"startedAt": None, "endedAt": None} == {
        "node": "big", "type": "assignment", "label": "big", "outcome": "completed",
        "output": {"size": "big"}, "startedAt": None, "endedAt": None,
    }  # fmt: skip
    assert stored.user_id == flw_admin.pk and stored.trigger == "manual"


def test_crud_nodes_write_through_objectql_with_templating_and_date_tokens(flw, flw_admin):
    ctx = context(flw, flw_admin)
    run = flows.run(ctx, "crud", {"title": "Write the report"})
    assert run.status == "completed", run.error
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    changed = run.outputs["changed"]
    assert changed["title"] == "Write the report"
    assert changed["notes"] == f"seen Write the report due {tomorrow}"
    assert changed["due_date"] == tomorrow
    assert changed["id"] == run.outputs["newId"]
    # deleted by the last node: gone, and audited as create, update, delete
    from apps.audit.models import AuditEvent

    actions = list(
        AuditEvent.objects.filter(record_id=run.outputs["newId"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]
    assert (
        list_records(ctx, "flw_task", QuerySpec(top=5, filters=[{"id": changed["id"]}]))["records"]
        == []
    )


def test_graph_loop_iterates_the_collection_with_its_iterator_variable(flw, flw_admin):
    ctx = context(flw, flw_admin)
    for title, status in (("b", "open"), ("a", "open"), ("c", "done")):
        write.create_record(ctx, "flw_task", {"title": title, "status": status})
    run = flows.run(ctx, "looper", {})
    assert run.status == "completed", run.error
    assert run.outputs == {"seen": ["a", "b"]}
    body = [s for s in run.trace if s["node"] == "count_one"]
    assert [s["iteration"] for s in body] == [[0], [1]]
    assert run.trace[-1]["node"] == "end"


def test_structured_loop_runs_its_body_per_item_with_an_index(flw, flw_admin):
    run = flows.run(context(flw, flw_admin), "looper_structured", {"items": [2, 3, 5]})
    assert run.status == "completed", run.error
    assert run.outputs == {"total": 10, "last": 2}
    empty = flows.run(context(flw, flw_admin), "looper_structured", {"items": []})
    assert empty.outputs == {"total": None, "last": None}


def test_script_nodes_call_kernel_functions_registered_by_plugins(flw, flw_admin):
    run = flows.run(context(flw, flw_admin), "scripted", {"n": "21", "day": "2026-02-28"})
    assert run.status == "completed", run.error
    assert run.outputs == {"doubled": 42, "nextDay": "2026-03-01"}


def test_unknown_function_fails_the_run_naming_it(flw, flw_admin):
    run = flows.run(context(flw, flw_admin), "script_missing", {})
    assert run.status == "failed"
    assert "no function 'nowhere' is registered" in run.error
    assert run.trace[-1]["node"] == "x" and run.trace[-1]["outcome"] == "failed"


def test_a_failing_node_rolls_back_the_runs_writes_and_records_the_failure(flw, flw_admin):
    ctx = context(flw, flw_admin)
    run = flows.run(ctx, "script_breaks", {})
    assert run.status == "failed"
    assert run.error == "node 'x' (script): RuntimeError: the function broke"
    assert "before" not in logs(ctx)  # the create_record before it was rolled back
    stored = FlowRun.objects.get(pk=run.id)
    assert stored.status == "failed"
    assert [(s["node"], s["outcome"]) for s in stored.trace] == [
        ("start", "completed"),
        ("make", "completed"),
        ("x", "failed"),
    ]


def test_unsupported_node_type_fails_with_a_clear_error(flw, flw_admin):
    run = flows.run(context(flw, flw_admin), "teleporter", {})
    assert run.status == "failed"
    assert run.error == "node 'beam': node type 'teleport' is not supported"


def test_unknown_flow_is_refused(flw, flw_admin):
    with pytest.raises(FlowNotFound):
        flows.run(context(flw, flw_admin), "nope", {})


def test_subflow_runs_the_child_with_inputs_and_returns_its_outputs(flw, flw_admin):
    run = flows.run(context(flw, flw_admin), "parent", {"who": "Ann"})
    assert run.status == "completed", run.error
    assert run.outputs == {"said": "hi Ann"}
    child = FlowRun.objects.get(parent=run)
    assert (child.flow, child.status, child.outputs) == (
        "child",
        "completed",
        {"greeting": "hi Ann"},
    )
    assert child.trigger == "subflow" and child.parent_node == "call"


def test_run_as_user_is_bound_by_the_users_permissions(flw, flw_admin):
    from tests import factories

    reader = factories.make_user("reader@flw.test", flw, permission_sets=["flw_reader"])
    run = flows.run(context(flw, reader), "crud", {"title": "x"})
    assert run.status == "failed"
    assert run.error == "node 'make' (create_record): you may not create flw_task"
