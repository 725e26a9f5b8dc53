"""Artifact versions over HTTP: list, load (pending + plan), approve, reject, roll back.

Only project admins (superusers, permission sets with `systemPermissions: setup.access`).
Loading and rejecting are quick and answered at once; approving and rolling back change
the schema, so they are checked here (a destructive plan without `allow_destructive` is
409 at once, never queued) and then run as a job on queue `schema`
(apps.schema.tasks), answered 202 with `{job_id}`. The audit rows are the CLI's: the
same apps.schema.publish functions write them.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.api.errors import error_response
from apps.api.jobs import accepted, is_project_admin
from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.automation.validation import validation_problems
from apps.jobs import submit
from apps.kernel.exceptions import NoPublishedVersion
from apps.kernel.kernel import Kernel
from apps.objectql.exceptions import Forbidden, RecordNotFound, ValidationFailed
from apps.projects.context import Context
from apps.projects.models import AppVersion, Project
from apps.schema import publish
from apps.schema.plan import RISKS, make_plan
from apps.schema.tasks import SCHEMA_QUEUE
from apps.security.access import rule_problems


def admin_context(request: Request) -> tuple[Context, Project]:
    """The request's Context and Project, or 403 unless the user is a project admin.

    A project without a published version has no permission sets yet: superusers only."""
    try:
        ctx = request_context(request)
        admin = is_project_admin(ctx)
    except NoPublishedVersion:
        ctx = request_context(request, with_kernel=False)
        admin = bool(ctx.user is not None and ctx.user.is_superuser)
    if not admin:
        raise Forbidden("only project admins may manage artifact versions")
    return ctx, Project.objects.get(pk=ctx.project_id)


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def worst_risk(plan: list[dict[str, Any]]) -> str:
    return max((op["risk"] for op in plan), key=RISKS.index, default="metadata-only")


def version_summary(version: AppVersion, project: Project) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "current": version.pk == project.published_version_id,
        "sha256": version.sha256,
        "created": _when(version.created_at),
        "decided": _when(version.decided_at),
        "published": _when(version.published_at),
        "operations": len(version.plan),
        "worstRisk": worst_risk(version.plan),
    }


def version_detail(version: AppVersion, project: Project) -> dict[str, Any]:
    return {**version_summary(version, project), "plan": version.plan, "warnings": version.warnings}


def _version(project: Project, number: int) -> AppVersion:
    version = project.versions.filter(number=number).first()
    if version is None:
        raise RecordNotFound(f"project '{project.name}' has no version {number}")
    return version


def _allow_destructive(request: Request) -> bool:
    body = request.data if request.data is not None else {}
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    flag = body.get("allow_destructive", False)
    if not isinstance(flag, bool):
        raise ValidationFailed("allow_destructive must be true or false", field="allow_destructive")
    return flag


def destructive_refusal(plan: list, what: str) -> Response:
    """409 naming every destructive operation: nothing was queued."""
    operations = [op.as_dict() for op in plan if op.risk == "destructive"]
    return error_response(
        409,
        "DESTRUCTIVE_PLAN",
        f"{what} has destructive operations; repeat with allow_destructive: true: "
        + "; ".join(op["description"] for op in operations),
        operations=operations,
    )


def _queue(ctx: Context, func: str, kind: str, number: int, allow: bool) -> Response:
    job = submit(
        ctx,
        f"apps.schema.tasks.{func}",
        {"version": number, "allow_destructive": allow},
        kind=kind,
        queue=SCHEMA_QUEUE,
        max_attempts=1,  # an apply that failed is looked at, not repeated blindly
    )
    return accepted(job)


class ArtifactsView(APIView):
    """GET: the project's versions, newest first. POST: load an artifact as pending."""

    def get(self, request: Request) -> Response:
        ctx, project = admin_context(request)
        versions = project.versions.order_by("-number")
        return Response({"records": [version_summary(v, project) for v in versions]})

    def post(self, request: Request) -> Response:
        ctx, project = admin_context(request)
        if not isinstance(request.data, dict):
            raise ValidationFailed("the body must be the artifact as a JSON object")
        try:
            loaded = load_artifact(request.data)
        except ArtifactInvalid as error:
            issues = [{"path": i.path, "message": i.message} for i in error.issues]
            return error_response(
                400,
                "ARTIFACT_INVALID",
                f"artifact is invalid: {len(issues)} problem(s), nothing was changed; "
                f"first: {error.issues[0]}",
                field=issues[0]["path"],
                issues=issues,
            )
        checked = Kernel("check", 0, 0, loaded)
        warnings = [str(w) for w in loaded.warnings]
        warnings += [str(p) for p in rule_problems(checked) + validation_problems(checked)]
        candidate = publish.propose(project, loaded, user=ctx.user)
        project.refresh_from_db()
        if candidate.unchanged:
            return Response(
                {
                    "unchanged": True,
                    "message": f"artifact unchanged (version {candidate.version.number} "
                    "is published)",
                    "version": version_summary(candidate.version, project),
                }
            )
        body = version_detail(candidate.version, project)
        body["warnings"] = warnings
        return Response(body, status=201)


class ArtifactView(APIView):
    """GET /artifacts/<number>: the version and its plan."""

    def get(self, request: Request, number: int) -> Response:
        ctx, project = admin_context(request)
        return Response(version_detail(_version(project, int(number)), project))


class ArtifactApproveView(APIView):
    """POST /artifacts/<number>/approve `{allow_destructive?}`: 202 job on queue `schema`."""

    def post(self, request: Request, number: int) -> Response:
        ctx, project = admin_context(request)
        version = _version(project, int(number))
        allow = _allow_destructive(request)
        if version.status != AppVersion.Status.PENDING:
            return error_response(
                409, "CONFLICT", f"version {version.number} is {version.status}, not pending"
            )
        plan = make_plan(
            publish.published_artifact(project), load_artifact(version.artifact).artifact
        )
        if not allow and any(op.risk == "destructive" for op in plan):
            return destructive_refusal(plan, f"version {version.number}")
        return _queue(ctx, "approve_version", "artifact.approve", version.number, allow)


class ArtifactRejectView(APIView):
    """POST /artifacts/<number>/reject: the pending version is rejected at once."""

    def post(self, request: Request, number: int) -> Response:
        ctx, project = admin_context(request)
        version = _version(project, int(number))
        if version.status != AppVersion.Status.PENDING:
            return error_response(
                409, "CONFLICT", f"version {version.number} is {version.status}, not pending"
            )
        publish.reject(version, user=ctx.user)
        version.refresh_from_db()
        return Response(version_summary(version, project))


class ArtifactRollbackView(APIView):
    """POST /artifacts/<number>/rollback `{allow_destructive?}`: 202 job on queue `schema`."""

    def post(self, request: Request, number: int) -> Response:
        ctx, project = admin_context(request)
        version = _version(project, int(number))
        allow = _allow_destructive(request)
        if version.published_at is None:
            return error_response(
                409, "CONFLICT", f"version {version.number} was never published; approve it"
            )
        if version.pk == project.published_version_id:
            return error_response(
                409, "CONFLICT", f"version {version.number} is already the published version"
            )
        plan = make_plan(
            publish.published_artifact(project), load_artifact(version.artifact).artifact
        )
        plan = [op for op in plan if op.kind != "seed_data"]
        if not allow and any(op.risk == "destructive" for op in plan):
            return destructive_refusal(plan, f"rolling back to version {version.number}")
        return _queue(ctx, "rollback_version", "artifact.rollback", version.number, allow)
