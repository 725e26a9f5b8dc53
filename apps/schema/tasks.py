"""Job functions of the schema workflow: approve and roll back in a worker (queue `schema`).

The HTTP API only checks and queues (apps.api.artifacts); the apply itself runs here,
calling the same `publish.approve` / `publish.rollback` the CLI calls, so the DDL, the
publish and the audit rows are exactly the CLI's. Arguments are plain JSON (a version
number, a flag); the project and the acting user come from the rebuilt Context.
"""

from __future__ import annotations

from typing import Any

from apps.projects.context import Context
from apps.projects.models import Project
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import worst_risk

SCHEMA_QUEUE = "schema"


def _project(ctx: Context) -> Project:
    project = Project.objects.filter(pk=ctx.project_id).first()
    if project is None:
        raise SchemaError(f"project {ctx.project_id} no longer exists")
    return project


def approve_version(
    ctx: Context, *, version: int, allow_destructive: bool = False
) -> dict[str, Any]:
    """Apply and publish pending version `version` of the job's project."""
    project = _project(ctx)
    row = project.versions.filter(number=version).first()
    if row is None:
        raise SchemaError(f"project '{project.name}' has no version {version}")
    if row.status != "pending" and project.published_version_id != row.pk:
        raise SchemaError(f"version {version} is {row.status}, not pending")
    plan = publish.approve(row, allow_destructive=allow_destructive, user=ctx.user)
    return {
        "version": version,
        "published": True,
        "operations": [op.as_dict() for op in plan],
        "worstRisk": worst_risk(plan),
    }


def rollback_version(
    ctx: Context, *, version: int, allow_destructive: bool = False
) -> dict[str, Any]:
    """Serve earlier published version `version` of the job's project again."""
    project = _project(ctx)
    plan = publish.rollback(project, version, allow_destructive=allow_destructive, user=ctx.user)
    return {
        "version": version,
        "published": True,
        "operations": [op.as_dict() for op in plan],
        "worstRisk": worst_risk(plan),
    }
