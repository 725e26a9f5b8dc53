"""Flows (protocol 17): a graph of nodes run by the engine, triggered by record changes,
schedules or the API, recorded as FlowRun rows with a node-by-node trace.

Public API:
- `run(ctx, flow_name, inputs, *, record=None, previous=None) -> FlowRun`: run now.
- `launch(ctx, flow_name, inputs, *, object_name=None, record_id=None) -> Job`: run as a
  job on a worker (apps.jobs), after the caller's commit.
- `resume(ctx, run_id, payload) -> FlowRun`: answer a waiting screen or approval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.automation.models import FlowRun
    from apps.jobs.models import Job
    from apps.projects.context import Context

RUN_TASK = "apps.automation.flows.tasks.run_flow"


def run(
    ctx: Context,
    flow_name: str,
    inputs: dict[str, Any] | None = None,
    *,
    record: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    trigger: str = "manual",
) -> FlowRun:
    """Run the flow now, synchronously, until it ends or pauses; returns the stored run
    (status completed, waiting or failed, with its trace)."""
    from apps.automation.flows.definition import kernel_flows
    from apps.automation.flows.engine import execute, start_execution

    graph = kernel_flows(ctx.kernel).get(flow_name)
    execution = start_execution(
        ctx, graph, dict(inputs or {}), record=record, previous=previous, trigger=trigger
    )
    return execute(execution, graph.start.id)


def launch(
    ctx: Context,
    flow_name: str,
    inputs: dict[str, Any] | None = None,
    *,
    object_name: str | None = None,
    record_id: str | None = None,
    record: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    trigger: str = "manual",
    chain: int = 0,
    idempotency_key: str | None = None,
) -> Job:
    """Submit a job that runs the flow on a worker as `ctx`'s user (apps.jobs.submit):
    the record is read again by id there, or taken as given (`record`, `previous`: the
    states a data event carried)."""
    from apps.automation.flows.definition import kernel_flows
    from apps.jobs import submit

    kernel_flows(ctx.kernel).get(flow_name)  # unknown flows fail now, not on the worker
    kwargs = {
        "flow": flow_name,
        "inputs": dict(inputs or {}),
        "object_name": object_name,
        "record_id": record_id,
        "record": record,
        "previous": previous,
        "trigger": trigger,
        "chain": chain,
    }
    return submit(
        ctx, RUN_TASK, kwargs, kind="flow", max_attempts=1, idempotency_key=idempotency_key
    )


def resume(ctx: Context, run_id: str, payload: Any) -> FlowRun:
    """Answer a waiting run (screen inputs, or `{decision, comment}` for an approval)."""
    from apps.automation.flows.engine import resume_run

    return resume_run(ctx, run_id, payload)
