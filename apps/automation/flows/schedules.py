"""Schedule triggers: one django-q2 schedule per active schedule-triggered flow of a
project, named `objectos.flow.<project>.<flow>`, calling
apps.automation.flows.tasks.run_scheduled. `sync_schedules(kernel)` makes the stored
schedules match the published version (created, updated, removed; idempotent); it runs
at every kernel build of a published version, so publishing a new version and the next
request (or worker job) that builds its kernel bring the schedules in line.

Start node `schedule`: a cron expression (`0 8 * * *`, UTC) or `{type: interval,
intervalMs}` (rounded up to whole minutes, the scheduler's unit).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from apps.automation.flows.definition import FlowGraph, kernel_flows

logger = logging.getLogger("objectos.flows")
TASK = "apps.automation.flows.tasks.run_scheduled"


def schedule_name(project: str, flow: str) -> str:
    return f"objectos.flow.{project}.{flow}"[:100]


def wanted_schedule(graph: FlowGraph) -> dict[str, Any] | None:
    """The django-q2 schedule fields of an active schedule flow, or None."""
    from django_q.models import Schedule

    if not graph.active or graph.trigger_type != "schedule":
        return None
    spec = graph.trigger.get("schedule")
    if isinstance(spec, dict) and spec.get("type") == "cron":
        spec = spec.get("expression") or spec.get("cron")
    if isinstance(spec, str) and croniter.is_valid(spec):
        return {
            "schedule_type": Schedule.CRON,
            "cron": spec,
            "minutes": None,
            "next_run": croniter(spec, timezone.now()).get_next(datetime),
        }
    if isinstance(spec, dict) and spec.get("type") == "interval" and spec.get("intervalMs"):
        minutes = max(1, math.ceil(float(spec["intervalMs"]) / 60000))
        return {
            "schedule_type": Schedule.MINUTES,
            "cron": None,
            "minutes": minutes,
            "next_run": timezone.now() + timezone.timedelta(minutes=minutes),
        }
    logger.warning("flow %s: schedule %r is not supported; not scheduled", graph.name, spec)
    return None


def still_scheduled(kernel: Any, flow: str) -> bool:
    graph = kernel_flows(kernel).graphs.get(flow)
    return graph is not None and wanted_schedule(graph) is not None


def sync_schedules(kernel: Any) -> dict[str, str]:
    """Make the project's flow schedules match `kernel`; returns {flow: what was done}."""
    from django_q.models import Schedule

    project = kernel.project_name
    prefix = f"objectos.flow.{project}."
    wanted = {}
    for graph in kernel_flows(kernel).graphs.values():
        fields = wanted_schedule(graph)
        if fields is not None:
            wanted[schedule_name(project, graph.name)] = (graph.name, fields)
    done: dict[str, str] = {}
    with transaction.atomic():
        existing = {s.name: s for s in Schedule.objects.filter(name__startswith=prefix)}
        for name, schedule in existing.items():
            if name not in wanted:
                schedule.delete()
                done[name[len(prefix) :]] = "removed"
        for name, (flow, fields) in wanted.items():
            schedule = existing.get(name)
            args = repr((project, flow))
            if schedule is not None and (
                schedule.schedule_type == fields["schedule_type"]
                and schedule.cron == fields["cron"]
                and schedule.minutes == fields["minutes"]
                and schedule.func == TASK
                and schedule.args == args
            ):
                done[flow] = "unchanged"
                continue
            if schedule is None:
                Schedule.objects.create(name=name, func=TASK, args=args, repeats=-1, **fields)
                done[flow] = "created"
            else:
                for key, value in {"func": TASK, "args": args, "repeats": -1, **fields}.items():
                    setattr(schedule, key, value)
                schedule.save()
                done[flow] = "updated"
    return done


def sync_on_build(kernel: Any) -> None:
    """Kernel build hook: sync when the kernel is its project's published version. Never
    fails the build (a database that is not ready leaves the schedules as they were)."""
    from apps.projects.models import Project

    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the caller's work
            published = (
                Project.objects.filter(name=kernel.project_name)
                .values_list("published_version_id", flat=True)
                .first()
            )
            if published is not None and published == kernel.version_id:
                sync_schedules(kernel)
    except Exception:  # noqa: BLE001 - e.g. no database access in this process or test
        logger.warning("flow schedules of %s not synced", kernel.project_name, exc_info=True)
