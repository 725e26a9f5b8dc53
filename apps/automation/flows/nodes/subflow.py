"""The subflow node: runs another flow of the project with inputs, now, in the same
transaction, and puts its outputs (its `isOutput` variables) into `outputVariable`.

Config: `flowName`, `input` (or `inputs`, templated), `outputVariable`. The child runs as
its own `runAs` on behalf of the parent's user. When the child pauses (a screen or an
approval inside it), the parent waits too and continues when the child completes.
"""

from __future__ import annotations

from apps.automation.flows.definition import Node, kernel_flows
from apps.automation.flows.exceptions import NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type
from apps.automation.models import FlowRun
from apps.projects.context import Context


def _store(execution, node: Node, outputs) -> None:
    name = node.setting("outputVariable")
    if isinstance(name, str) and name:
        execution.variables[name] = outputs


@node_type("subflow", "call_flow")
class Subflow:
    def run(self, execution, node: Node) -> Outcome:
        from apps.automation.flows.engine import execute, start_execution

        name = node.setting("flowName") or node.setting("flow")
        if not isinstance(name, str) or not name:
            raise NodeFailed(f"subflow node '{node.id}' names no flow")
        graph = kernel_flows(execution.ctx.kernel).get(name)
        inputs = execution.render(node.setting("input") or node.setting("inputs") or {})
        if not isinstance(inputs, dict):
            raise NodeFailed(f"subflow node '{node.id}': input must be an object")
        parent_ctx = execution.ctx
        base = Context(
            request_id=parent_ctx.request_id,
            project_id=parent_ctx.project_id,
            project_name=parent_ctx.project_name,
            kernel=parent_ctx.kernel,
            user=execution.user,
        )
        record = execution.variables.get("record")
        child = start_execution(
            base,
            graph,
            inputs,
            record=record if isinstance(record, dict) else None,
            trigger="subflow",
            depth=execution.depth + 1,
            parent=execution.run,
            parent_node=node.id,
        )
        run = execute(child, graph.start.id)
        if run.status == FlowRun.Status.FAILED:
            execution.failed_children.append(run)
            raise NodeFailed(f"subflow '{name}' (run {run.id}) failed: {run.error}")
        if run.status == FlowRun.Status.WAITING:
            return Outcome(
                pause={"kind": "subflow", "child": run.id, "flow": name},
                output={"child": run.id},
            )
        _store(execution, node, run.outputs or {})
        return Outcome(output={"child": run.id, "outputs": run.outputs or {}})

    def resume(self, execution, node: Node, waiting, payload, actor) -> Outcome:
        if not actor.is_system:
            raise NodeFailed("a subflow step is resumed by its child run, not by people")
        child: FlowRun = payload
        if child.status != FlowRun.Status.COMPLETED:
            raise NodeFailed(
                f"subflow '{waiting.get('flow')}' (run {child.id}) failed: {child.error}"
            )
        _store(execution, node, child.outputs or {})
        return Outcome(output={"child": child.id, "outputs": child.outputs or {}})
