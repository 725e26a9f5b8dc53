"""Worker entry points: a flow run submitted as a job, a timer that is due, a schedule."""

from __future__ import annotations

import logging
from typing import Any

from apps.automation.flows import run
from apps.automation.flows.exceptions import FlowError
from apps.automation.models import FlowRun
from apps.objectql.params import QuerySpec
from apps.objectql.query import get_record
from apps.projects.context import Context, new_request_id

logger = logging.getLogger("objectos.flows")


def run_flow(
    ctx: Context,
    *,
    flow: str,
    inputs: dict[str, Any],
    object_name: str | None = None,
    record_id: str | None = None,
    record: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    trigger: str = "manual",
    chain: int = 0,
) -> dict[str, Any]:
    """The job of `flows.launch`: runs the flow; the job result names the run."""
    if chain:
        ctx.extra["flow_chain"] = chain  # seen by the triggers of the run's own writes
    if record is None and object_name and record_id:
        record = get_record(ctx, object_name, record_id, QuerySpec(top=1))["record"]
    flow_run = run(ctx, flow, inputs, record=record, previous=previous, trigger=trigger)
    result = {"run_id": flow_run.id, "status": flow_run.status}
    if flow_run.status == FlowRun.Status.FAILED:
        # Recorded as the run's failure; the job itself did its work (no retry of a run).
        result["error"] = flow_run.error
    return result


def _project_context(project_name: str) -> Context | None:
    from apps.kernel.cache import kernels
    from apps.projects.models import Project

    project = Project.objects.filter(name=project_name).first()
    if project is None or project.published_version_id is None:
        return None
    return Context(
        request_id=new_request_id(),
        project_id=project.pk,
        project_name=project.name,
        kernel=kernels.get_version(project.name, project.published_version_id),
        is_system=True,
    )


def resume_waiting(run_id: str) -> str:
    """django-q2 ONCE schedule of a wait node: resume the run when its time has come."""
    from apps.automation.flows.engine import resume_run

    project = FlowRun.objects.filter(pk=run_id).values_list("project", flat=True).first()
    ctx = _project_context(project) if project else None
    if ctx is None:
        return "gone"
    try:
        return resume_run(ctx, run_id, None).status
    except FlowError as error:
        logger.warning("waiting run %s not resumed: %s", run_id, error.message)
        return f"not resumed: {error.message}"


def run_scheduled(project: str, flow: str) -> str:
    """django-q2 CRON schedule of a schedule-triggered flow (see flows.schedules)."""
    from apps.automation.flows import schedules

    ctx = _project_context(project)
    if ctx is None:
        return "no published version"
    if not schedules.still_scheduled(ctx.kernel, flow):
        return "no longer scheduled"
    return run(ctx, flow, {}, trigger="schedule").status
