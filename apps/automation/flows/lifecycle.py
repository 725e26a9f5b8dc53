"""What happens when a run ends: the `flow.<name>.completed` (or `.failed`) event, and a
parent run waiting on this run (a subflow) continues."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from apps.automation.models import FlowRun
from apps.projects.context import Context

if TYPE_CHECKING:
    from apps.automation.flows.engine import Execution

logger = logging.getLogger("objectos.flows")


def emit(ctx: Context, topic: str, payload: dict[str, Any]) -> None:
    """Through the kernel's event broker, only when someone subscribed to the topic."""
    kernel = ctx.kernel
    wants = getattr(kernel, "wants", None)
    if wants is None or not wants(topic):
        return
    kernel_emit = getattr(kernel, "emit", None)
    if kernel_emit is not None:
        kernel_emit(ctx, topic, payload)
        return
    from apps.kernel.events import broker

    broker.emit(ctx, topic, payload)


def _payload(run: FlowRun) -> dict[str, Any]:
    return {
        "flow": run.flow,
        "run_id": run.id,
        "status": run.status,
        "object": run.object_name or None,
        "record_id": run.record_id or None,
        "outputs": run.outputs,
        "error": run.error or None,
        "user_id": run.user_id,
    }


def completed(execution: Execution) -> None:
    run = execution.run
    emit(execution.ctx, f"flow.{run.flow}.completed", _payload(run))
    _wake_parent(execution)


def failed(execution: Execution) -> None:
    run = execution.run
    emit(execution.ctx, f"flow.{run.flow}.failed", _payload(run))
    _wake_parent(execution)


def _wake_parent(execution: Execution) -> None:
    """A parent waiting on this child continues (or fails with it)."""
    run = execution.run
    if run.parent_id is None:
        return
    waiting_parent = FlowRun.objects.filter(
        pk=run.parent_id, status=FlowRun.Status.WAITING, current_node=run.parent_node
    ).exists()
    if not waiting_parent:
        return  # the parent is still running this child in its own stretch
    from apps.automation.flows.engine import resume_run

    system = Context(
        request_id=execution.ctx.request_id,
        project_id=execution.ctx.project_id,
        project_name=execution.ctx.project_name,
        kernel=execution.ctx.kernel,
        is_system=True,
    )
    resume_run(system, run.parent_id, run, expect_child=run.id)
