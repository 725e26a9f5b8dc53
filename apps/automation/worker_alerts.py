"""Notifications when a job worker goes down or comes back (apps.jobs.watch listeners).

Workers serve every project of the installation, so each project's administrators hear
about it: its members who are superusers or whose permission sets grant `setup.access`
(the people who see /api/v1/workers). One notification per person and project.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from apps.automation.notifications import notify
from apps.kernel.cache import kernels
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context, new_request_id
from apps.projects.models import Project
from apps.security.access import holds_system_permission
from apps.security.models import Membership
from apps.security.principal import principal_of

MESSAGES = {
    "down": ("critical", "Worker {name} is down", "No heartbeat since {heartbeat}; its "
             "unfinished jobs were handed back for a retry."),
    "up": ("success", "Worker {name} is back", "Heartbeats resumed at {heartbeat}."),
}  # fmt: skip


def _admins(project: Project) -> list[int]:
    """The project's members who are superusers or hold `setup.access` (as apps.api.jobs
    decides who sees the workers)."""
    members = get_user_model()._base_manager.filter(
        is_active=True, pk__in=Membership.objects.filter(project=project).values("user_id")
    )
    kernel = None
    if project.published_version_id is not None:
        kernel = kernels.get_version(project.name, project.published_version_id)
    ids = []
    for user in members:
        if user.is_superuser:
            ids.append(user.pk)
        elif kernel is not None:
            ctx = Context(request_id="", project_id=project.pk, project_name=project.name,
                          user=user)  # fmt: skip
            if holds_system_permission(kernel, principal_of(ctx)):
                ids.append(user.pk)
    return sorted(ids)


def notify_worker_change(event: str, worker: Any) -> None:
    severity, title, message = MESSAGES[event]
    values = {
        "name": worker.name,
        "heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else "-",
    }
    for project in Project.objects.all():
        recipients = _admins(project)
        if not recipients:
            continue
        ctx = Context(
            request_id=new_request_id(),
            project_id=project.pk,
            project_name=project.name,
            is_system=True,
        )
        with write_transaction():
            notify(
                ctx,
                recipients,
                title.format(**values),
                message.format(**values),
                severity=severity,
                topic=f"worker.{event}",
            )
