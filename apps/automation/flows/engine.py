"""The flow engine: walks a flow's graph node by node, recording a trace, until it ends
or pauses.

`start_run` executes a new run; `resume_run` continues a waiting one. Each stretch of a
run (from its start or a resume up to its end or next pause) is one transaction: a node
that fails rolls back every record the stretch wrote, and the run is then stored as
`failed` with the trace up to the failing node and its error. Nodes never run Python
given by the artifact: conditions are compiled CEL, values are `{var.path}` templates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from apps.automation.flows.conditions import evaluate_condition
from apps.automation.flows.definition import Edge, FlowGraph, Node
from apps.automation.flows.exceptions import InvalidFlow, NodeFailed
from apps.automation.flows.nodes.base import Outcome, handler_for
from apps.automation.flows.templating import render
from apps.automation.models import FlowRun
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context
from apps.security.rules import RuleError

logger = logging.getLogger("objectos.flows")

MAX_STEPS = 10_000  # nodes per stretch: a cycle without a pause is stopped here
MAX_DEPTH = 8  # nested subflows
LIST_TYPES = frozenset({"list", "collection", "record_collection", "array"})


def acting_context(ctx: Context, run_as: str, user: Any) -> Context:
    """The context nodes act with: the user's own, or the system's for `runAs: system`;
    a child of `ctx` (same request id, budgets and extras)."""
    return ctx.fork(
        user=None if run_as == "system" else user,
        # A run without a person (a schedule) acts as the system whatever its runAs.
        is_system=run_as == "system" or (user is None and ctx.is_system),
    )


@dataclass
class Execution:
    """A run being executed: its graph, variables, trace and the acting context."""

    ctx: Context
    graph: FlowGraph
    run: FlowRun
    user: Any  # the person the run belongs to ($User), also for system runs
    depth: int = 0
    iterations: list[int] = field(default_factory=list)
    # Child runs to store again when this stretch is rolled back (their failure is kept).
    failed_children: list[FlowRun] = field(default_factory=list)

    @property
    def variables(self) -> dict[str, Any]:
        return self.run.variables

    def scope(self) -> dict[str, Any]:
        """What `{path}` tokens and CEL see: variables (with `record` and `previous`),
        `vars` (the variables again, for `vars.x`) and `$User`."""
        user = self.user
        scope = dict(self.variables)
        scope["vars"] = self.variables
        user_id = str(user.pk) if getattr(user, "pk", None) is not None else None
        scope["$User"] = {  # ids as text: the wire format of user references
            "Id": user_id,
            "id": user_id,
            "Email": getattr(user, "email", None),
            "email": getattr(user, "email", None),
        }
        return scope

    def activation(self) -> dict[str, Any]:
        """CEL activation: record fields bare (`status == "done"`), then the scope."""
        record = self.variables.get("record")
        activation = dict(record) if isinstance(record, dict) else {}
        activation.update(self.scope())
        return activation

    def render(self, value: Any) -> Any:
        return render(value, self.scope())

    def condition(self, source: str) -> bool:
        return evaluate_condition(source, self.activation())


def _now_text() -> str:
    return timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _edge_condition(execution: Execution, edge: Edge) -> bool:
    if edge.condition is None:
        return True
    if edge.condition.dialect not in ("cel", ""):
        raise InvalidFlow(f"edge '{edge.id}': condition dialect '{edge.condition.dialect}'")
    return execution.condition(edge.condition.source)


def next_node(execution: Execution, graph: FlowGraph, node: Node, branch: str | None) -> str | None:
    """The target of the edge taken after `node`: the edge labelled `branch` when the node
    chose one; else the first edge whose condition holds (in order), then the default edge."""
    edges = graph.outgoing.get(node.id, [])
    if not edges:
        return None
    if branch is not None:
        wanted = branch.lower()
        for edge in edges:
            if (edge.label or "").lower() == wanted or edge.id.lower() == wanted:
                return edge.target
        unlabeled = [e for e in edges if not e.label and e.condition is None]
        if len(unlabeled) == 1:
            return unlabeled[0].target
        raise NodeFailed(f"node '{node.id}' chose '{branch}' but no edge is labelled so")
    default = None
    for edge in edges:
        if edge.is_default:
            default = default or edge
            continue
        if _edge_condition(execution, edge):
            return edge.target
    if default is not None:
        return default.target
    raise NodeFailed(f"no outgoing edge of node '{node.id}' matched")


@dataclass
class Walked:
    """Where a walk stopped: `end` (an end node, or no edge left), `pause` or `stop`."""

    kind: str
    node_id: str | None = None


def run_node(execution: Execution, node: Node) -> Outcome:
    """Run one node with its trace entry; a failure is recorded and raised as NodeFailed."""
    handler = handler_for(node.type)
    entry: dict[str, Any] = {
        "node": node.id,
        "type": node.type,
        "label": node.label or "",
        "startedAt": _now_text(),
    }
    if execution.iterations:
        entry["iteration"] = list(execution.iterations)
    execution.run.trace.append(entry)
    try:
        if handler is None:
            raise InvalidFlow(f"node '{node.id}': node type '{node.type}' is not supported")
        outcome = handler.run(execution, node)
    except Exception as error:
        entry.update(endedAt=_now_text(), outcome="failed", error=_message(error))
        if isinstance(error, NodeFailed):
            raise
        if isinstance(error, InvalidFlow):  # already names the node
            raise NodeFailed(error.message) from error
        raise NodeFailed(f"node '{node.id}' ({node.type}): {_message(error)}") from error
    entry.update(endedAt=_now_text(), outcome=_outcome_name(outcome))
    if outcome.output is not None:
        entry["output"] = outcome.output
    if outcome.branch is not None:
        entry["branch"] = outcome.branch
    return outcome


def _outcome_name(outcome: Outcome) -> str:
    if outcome.pause is not None:
        return "waiting"
    return "completed"


def _message(error: BaseException) -> str:
    if isinstance(error, ObjectQLError):
        text = error.message
        fields = getattr(error, "fields", None)
        if fields:
            text += ": " + "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields)
        return text
    if isinstance(error, RuleError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def walk(
    execution: Execution,
    graph: FlowGraph,
    node_id: str | None,
    *,
    stop: frozenset[str] = frozenset(),
    nested: bool = False,
) -> Walked:
    """Run nodes from `node_id` on. `stop`: node ids that end the walk before running
    (a loop's own node); `nested`: a loop body, where end nodes stop the body (not run)
    and pauses are refused."""
    steps = 0
    while node_id is not None:
        if node_id in stop:
            return Walked("stop", node_id)
        node = graph.nodes[node_id]
        if nested and node.type == "end":
            return Walked("end", node_id)
        steps += 1
        if steps > MAX_STEPS:
            raise NodeFailed(f"the run passed {MAX_STEPS} nodes without pausing: a cycle?")
        outcome = run_node(execution, node)
        if outcome.pause is not None:
            if nested:
                raise NodeFailed(f"node '{node.id}' ({node.type}) cannot pause inside a loop")
            execution.run.current_node = node.id
            execution.run.waiting = outcome.pause
            return Walked("pause", node.id)
        if outcome.end or node.type == "end":
            return Walked("end", node.id)
        node_id = outcome.goto or next_node(execution, graph, node, outcome.branch)
    return Walked("end", None)


def _outputs(execution: Execution) -> dict[str, Any]:
    names = [v.name for v in execution.graph.flow.variables if v.is_output]
    return {name: execution.variables.get(name) for name in names}


def _settle(execution: Execution, walked: Walked) -> None:
    run = execution.run
    now = timezone.now()
    run.updated_at = now
    if walked.kind == "pause":
        run.status = FlowRun.Status.WAITING
        return
    run.status = FlowRun.Status.COMPLETED
    run.current_node = ""
    run.waiting = None
    run.ended_at = now
    run.outputs = _outputs(execution)


def execute(execution: Execution, first: str | None) -> FlowRun:
    """Walk from `first` in one transaction and store the run (see the module docstring)."""
    from apps.automation.flows import lifecycle

    run = execution.run
    try:
        with write_transaction():
            if run._state.adding:
                run.save(force_insert=True)  # children and notifications point at it
            walked = walk(execution, execution.graph, first)
            _settle(execution, walked)
            run.save()
            if run.status == FlowRun.Status.COMPLETED:
                lifecycle.completed(execution)
    except NodeFailed as error:
        run.status = FlowRun.Status.FAILED
        run.error = error.message
        run.ended_at = run.updated_at = timezone.now()
        run.waiting = None
        with write_transaction():
            run.save()  # inserted again when the rollback took the row away
            for child in execution.failed_children:
                child.save()
        logger.info("flow run %s of %s failed: %s", run.id, run.flow, error.message)
        lifecycle.failed(execution)
    return run


def start_execution(
    ctx: Context,
    graph: FlowGraph,
    inputs: dict[str, Any],
    *,
    record: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    trigger: str = "manual",
    depth: int = 0,
    parent: FlowRun | None = None,
    parent_node: str = "",
) -> Execution:
    """A new run's Execution with its variables set: declared ones (defaults), the inputs,
    `record` and `previous`. Nothing is stored yet."""
    if depth > MAX_DEPTH:
        raise NodeFailed(f"subflows nest deeper than {MAX_DEPTH}")
    variables: dict[str, Any] = {
        v.name: [] if v.default is None and v.type in LIST_TYPES else v.default
        for v in graph.flow.variables
    }
    variables.update(inputs)
    variables["record"] = record if record is not None else variables.get("record")
    variables["previous"] = previous
    now = timezone.now()
    record_value = variables.get("record")
    run = FlowRun(
        project=ctx.project_name,
        version_id=getattr(ctx.kernel, "version_id", None),
        flow=graph.name,
        flow_label=graph.flow.label or "",
        trigger=trigger,
        run_as="system" if graph.flow.run_as == "system" else "user",
        user=ctx.user if ctx.user is not None and ctx.user.is_authenticated else None,
        object_name=graph.object_name or "",
        record_id=str(record_value.get("id") or "") if isinstance(record_value, dict) else "",
        request_id=ctx.request_id,
        parent=parent,
        parent_node=parent_node,
        variables=variables,
        trace=[],
        started_at=now,
        updated_at=now,
    )
    acting = acting_context(ctx, run.run_as, run.user)
    return Execution(acting, graph, run, run.user, depth=depth)


def first_node(execution: Execution) -> str | None:
    """The node after start (the start node runs as the first step of the trace)."""
    return execution.graph.start.id


def resume_run(
    ctx: Context, run_id: str, payload: Any, *, expect_child: str | None = None
) -> FlowRun:
    """Continue a waiting run: the paused node's handler checks who answers and what
    (403/400/409 leave the run as it was), then the walk goes on from there.
    `ctx` is the one answering (a person, or the system for timers and subflows); the
    run goes on acting as it did before (its user, or the system for `runAs: system`)."""
    from apps.automation.flows.definition import kernel_flows
    from apps.automation.flows.exceptions import RunNotFound, RunNotWaiting

    with write_transaction():
        run = (
            FlowRun.objects.select_for_update(of=("self",))
            .filter(pk=str(run_id), project=ctx.project_name)
            .select_related("user")
            .first()
        )
        if run is None:
            raise RunNotFound(f"no flow run '{run_id}'")
        if run.status != FlowRun.Status.WAITING or not run.waiting:
            raise RunNotWaiting(f"the run is {run.status}, not waiting")
        waiting = run.waiting
        if expect_child is not None and waiting.get("child") != expect_child:
            raise RunNotWaiting("the run does not wait for this subflow")
        graph = kernel_flows(ctx.kernel).get(run.flow)
        node = graph.nodes.get(run.current_node)
        handler = handler_for(node.type) if node is not None else None
        if node is None or not hasattr(handler, "resume"):
            raise RunNotWaiting(f"the run waits at '{run.current_node}', which cannot resume")
        base = Context(
            request_id=ctx.request_id,
            project_id=ctx.project_id,
            project_name=ctx.project_name,
            kernel=ctx.kernel,
            user=run.user,
        )
        execution = Execution(acting_context(base, run.run_as, run.user), graph, run, run.user)
        try:
            outcome = handler.resume(execution, node, waiting, payload, ctx)
        except NodeFailed as error:  # refusals (403/400/409) are other errors: no change
            run.trace.append({"node": node.id, "type": node.type, "error": error.message})
            _fail(run, error.message)
            return run
        entry: dict[str, Any] = {
            "node": node.id,
            "type": node.type,
            "label": node.label or "",
            "startedAt": _now_text(),
            "endedAt": _now_text(),
            "outcome": "waiting" if outcome.pause is not None else "resumed",
            "by": ctx.user_id,
        }
        if outcome.output is not None:
            entry["output"] = outcome.output
        if outcome.branch is not None:
            entry["branch"] = outcome.branch
        run.trace.append(entry)
        if outcome.pause is not None:
            run.waiting = outcome.pause
            run.updated_at = timezone.now()
            run.save()
            return run
        try:
            following = (
                None
                if outcome.end
                else outcome.goto or next_node(execution, graph, node, outcome.branch)
            )
        except NodeFailed as error:
            entry["error"] = error.message
            _fail(run, error.message)
            return run
        run.status = FlowRun.Status.RUNNING
        run.waiting = None
        run.current_node = ""
        return execute(execution, following)


def _fail(run: FlowRun, message: str) -> None:
    run.status = FlowRun.Status.FAILED
    run.error = message
    run.waiting = None
    run.ended_at = run.updated_at = timezone.now()
    run.save()
