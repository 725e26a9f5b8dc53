"""Record triggers: at kernel build, each active record-triggered flow subscribes the
kernel to `data.<object>.created|updated|deleted`; the subscriber evaluates the start
node's `condition` (CEL over the record's fields, `record.`, `previous.`) and launches
the flow as a job (apps.jobs) as the user whose write emitted the event.

`triggerType`: `record-after-create`, `record-after-update`, `record-after-delete`,
`record-after-write` (create and update); `record-before-*` are run after the write too
(a flow cannot veto a write: validation rules do that). Only `status: active` flows
trigger by themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.automation.flows.conditions import evaluate_condition, record_activation
from apps.automation.flows.definition import FlowGraph, kernel_flows
from apps.automation.flows.exceptions import FlowError
from apps.projects.context import Context, new_request_id

logger = logging.getLogger("objectos.flows")
# Record-triggered runs started by the writes of other record-triggered runs, in a row:
# beyond this a flow that keeps re-triggering itself (or two that trigger each other) stops.
MAX_CHAIN = 8
CHAIN_KEY = "flow_chain"

EVENTS = {
    "create": ("created",),
    "insert": ("created",),
    "update": ("updated",),
    "delete": ("deleted",),
    "write": ("created", "updated"),
    "save": ("created", "updated"),
    "change": ("created", "updated", "deleted"),
}


def record_events(graph: FlowGraph) -> tuple[str, ...]:
    """The data events (`created`, `updated`, `deleted`) that start this flow, if any."""
    trigger = graph.trigger_type.lower()
    if trigger.startswith("record"):
        return EVENTS.get(trigger.rsplit("-", 1)[-1].rsplit("_", 1)[-1], ())
    if graph.flow.type == "record_change" and graph.object_name:
        return EVENTS["write"]
    return ()


def attach_record_triggers(kernel: Any) -> None:
    """Kernel build hook: subscribe the kernel for its active record-triggered flows."""
    for graph in kernel_flows(kernel).graphs.values():
        if not graph.active or graph.object_name is None:
            continue
        if graph.object_name not in kernel.objects:
            logger.warning("flow %s triggers on unknown object %s", graph.name, graph.object_name)
            continue
        for event in record_events(graph):
            topic = f"data.{graph.object_name}.{event}"
            kernel.subscribe(topic, _subscriber(kernel, graph.name), name=f"flow:{graph.name}")


def _subscriber(kernel: Any, flow_name: str):
    def on_record_event(event: Any) -> None:
        handle_record_event(kernel, flow_name, event)

    return on_record_event


def should_start(graph: FlowGraph, record: Any, previous: Any) -> bool:
    condition = graph.trigger.get("condition")
    if isinstance(condition, dict):
        condition = condition.get("source")
    if not isinstance(condition, str) or not condition.strip():
        return True
    return evaluate_condition(condition, record_activation(record, previous))


def _event_context(kernel: Any, event: Any, user_id: Any) -> Context:
    ctx = getattr(event, "context", None)
    if ctx is not None and ctx.kernel is kernel:
        return ctx
    from django.contrib.auth import get_user_model

    from apps.projects.models import Project

    user = None
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    project_id = Project.objects.filter(name=kernel.project_name).values_list("pk", flat=True)
    return Context(
        request_id=getattr(event, "request_id", "") or new_request_id(),
        project_id=project_id.first(),
        project_name=kernel.project_name,
        kernel=kernel,
        user=user,
        is_system=user is None,
    )


def serving(kernel: Any, event: Any) -> bool:
    """Whether the change is activity to automate. Seed data written while a version is
    published emits no events at all (apps.objectql.hooks); a write whose context is
    marked `seeding` anyway is skipped here too."""
    ctx = getattr(event, "context", None)
    return not (ctx is not None and ctx.extra.get("seeding"))


def handle_record_event(kernel: Any, flow_name: str, event: Any) -> None:
    """Evaluate the flow's condition for this change and launch it when it holds."""
    from apps.automation.flows import launch

    graph = kernel_flows(kernel).graphs.get(flow_name)
    if graph is None or not serving(kernel, event):
        return
    payload = event.payload
    record, previous = payload.get("record"), payload.get("previous")
    deleted = record is None
    try:
        if not should_start(graph, previous if deleted else record, previous):
            return
    except FlowError as error:
        logger.warning("flow %s: trigger condition failed: %s", flow_name, error.message)
        return
    ctx = _event_context(kernel, event, payload.get("user_id"))
    chain = int(ctx.extra.get(CHAIN_KEY, 0)) + 1
    if chain > MAX_CHAIN:
        logger.warning(
            "flow %s not launched: %s flows already triggered one another from request %s",
            flow_name, MAX_CHAIN, ctx.request_id,
        )  # fmt: skip
        return
    launch(
        ctx,
        flow_name,
        {},
        object_name=payload.get("object"),
        record_id=payload.get("id"),
        record=previous if deleted else record,
        previous=previous,
        trigger=f"record.{event.topic.rsplit('.', 1)[-1]}",
        chain=chain,
        # a redelivered event (at-least-once) launches the flow once
        idempotency_key=f"flow:{kernel.project_name}:{flow_name}:{event.idempotency_key}",
    )
