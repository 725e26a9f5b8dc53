"""Artifact versions: load as pending, approve (apply + publish + seed), reject, roll back."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from django.db import transaction
from django.utils import timezone

from apps.artifact.load import LoadedArtifact, load_artifact
from apps.artifact.models import Artifact
from apps.audit import record as audit
from apps.kernel.events import broker
from apps.kernel.kernel import Kernel
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.seed import load_seed_data
from apps.projects import hosts
from apps.projects.context import Context, new_request_id
from apps.projects.models import AppVersion, Domain, Project
from apps.schema.apply import apply_plan
from apps.schema.exceptions import ApprovalRequired, SchemaError
from apps.schema.locks import schema_lock
from apps.schema.plan import Operation, is_destructive, make_plan


@dataclass
class Candidate:
    version: AppVersion
    plan: list[Operation]
    unchanged: bool = False


def system_context(project: Project, user=None) -> Context:
    return Context(
        request_id=new_request_id(),
        project_id=project.pk,
        project_name=project.name,
        user=user,
        is_system=user is None,
    )


def _published_payload(project: Project, number: int) -> dict:
    """`artifact.published` (emitted in the publishing transaction, delivered after it)."""
    previous = project.published_version.number if project.published_version_id else None
    return {"project": project.name, "version": number, "previous": previous, "rollback": False}


def published_artifact(project: Project) -> Artifact | None:
    if project.published_version_id is None:
        return None
    return load_artifact(project.published_version.artifact).artifact


def ensure_project(name: str, hostnames: list[str], label: str = "") -> Project:
    project, _ = Project.objects.get_or_create(name=name, defaults={"label": label})
    for hostname in hostnames:
        hostname = hosts.normalise_host(hostname)
        domain, created = Domain.objects.get_or_create(
            hostname=hostname, defaults={"project": project}
        )
        if not created and domain.project_id != project.pk:
            raise SchemaError(f"host '{hostname}' already serves project '{domain.project.name}'")
    hosts.invalidate()
    return project


def propose(project: Project, loaded: LoadedArtifact, user=None) -> Candidate:
    """Store the artifact as a pending version with its plan (no DDL yet)."""
    published = project.published_version
    if published is not None and published.sha256 == loaded.sha256:
        return Candidate(published, [], unchanged=True)
    plan = make_plan(published_artifact(project), loaded.artifact)
    with transaction.atomic():
        pending = project.versions.filter(sha256=loaded.sha256, status=AppVersion.Status.PENDING)
        version = pending.first()
        if version is None:
            last = project.versions.order_by("-number").values_list("number", flat=True).first()
            version = AppVersion.objects.create(
                project=project,
                number=(last or 0) + 1,
                source=orjson.dumps(loaded.raw).decode(),
                sha256=loaded.sha256,
                plan=[op.as_dict() for op in plan],
                warnings=[str(w) for w in loaded.warnings],
                created_by=user,
            )
            audit.record(
                system_context(project, user),
                "artifact.load",
                details={
                    "version": version.number,
                    "sha256": loaded.sha256,
                    "operations": len(plan),
                },
            )
    return Candidate(version, plan)


def approve(version: AppVersion, *, allow_destructive: bool = False, user=None) -> list[Operation]:
    """Apply the version's schema change and publish it (one transaction), holding the
    project's schema lock (apps.schema.locks): the plan is made against the version
    published at that moment, never against one another approval is replacing."""
    with schema_lock(version.project_id):
        version.refresh_from_db()
        return _approve(version, allow_destructive=allow_destructive, user=user)


def _approve(version: AppVersion, *, allow_destructive: bool, user) -> list[Operation]:
    if (
        version.status == AppVersion.Status.PUBLISHED
        and version.project.published_version_id == version.pk
    ):
        return []
    project = Project.objects.get(pk=version.project_id)
    new = load_artifact(version.artifact)
    plan = make_plan(published_artifact(project), new.artifact)
    if is_destructive(plan) and not allow_destructive:
        raise ApprovalRequired(
            "the plan has destructive operations; approve with --allow-destructive: "
            + "; ".join(op.description for op in plan if op.risk == "destructive")
        )
    old = published_artifact(project)
    ctx = system_context(project, user)

    def publish() -> None:
        now = timezone.now()
        AppVersion.objects.filter(pk=version.pk).update(
            status=AppVersion.Status.PUBLISHED,
            decided_at=now,
            decided_by=user,
            published_at=now,
            plan=[op.as_dict() for op in plan],
        )
        Project.objects.filter(pk=project.pk).update(published_version=version, updated_at=now)
        audit.record(
            ctx,
            "artifact.publish",
            details={
                "version": version.number,
                "previous": project.published_version.number
                if project.published_version_id
                else None,
                "operations": len(plan),
            },
        )
        kernel = Kernel(project.name, version.pk, version.number, new)
        ctx.kernel = kernel
        ctx.extra["seeding"] = True  # seed rows emit no data events (objectql.hooks)
        try:
            load_seed_data(ctx, kernel)
        except ObjectQLError as error:
            raise SchemaError(error.message) from None
        finally:
            ctx.extra.pop("seeding", None)
        broker.emit(ctx, "artifact.published", _published_payload(project, version.number))

    apply_plan(project.name, old, new.artifact, plan, then=publish)
    hosts.invalidate()
    version.refresh_from_db()
    return plan


def reject(version: AppVersion, user=None) -> None:
    if version.status != AppVersion.Status.PENDING:
        raise SchemaError(f"version {version.number} is {version.status}, not pending")
    with transaction.atomic():
        AppVersion.objects.filter(pk=version.pk).update(
            status=AppVersion.Status.REJECTED, decided_at=timezone.now(), decided_by=user
        )
        audit.record(
            system_context(version.project, user),
            "artifact.reject",
            details={"version": version.number},
        )


def rollback(
    project: Project, number: int, *, allow_destructive: bool = False, user=None
) -> list[Operation]:
    """Point the project back at an earlier published version (reverse plan applied),
    holding the project's schema lock like `approve`."""
    with schema_lock(project.pk):
        project.refresh_from_db()
        return _rollback(project, number, allow_destructive=allow_destructive, user=user)


def _rollback(project: Project, number: int, *, allow_destructive: bool, user) -> list[Operation]:
    target = project.versions.filter(number=number).first()
    if target is None:
        raise SchemaError(f"project '{project.name}' has no version {number}")
    if target.published_at is None:
        raise SchemaError(f"version {number} was never published; approve it instead")
    if project.published_version_id == target.pk:
        raise SchemaError(f"version {number} is already the published version")
    new = load_artifact(target.artifact)
    old = published_artifact(project)
    plan = make_plan(old, new.artifact)
    plan = [op for op in plan if op.kind != "seed_data"]
    if is_destructive(plan) and not allow_destructive:
        raise ApprovalRequired(
            "rolling back is destructive; repeat with --allow-destructive: "
            + "; ".join(op.description for op in plan if op.risk == "destructive")
        )
    ctx = system_context(project, user)
    previous = project.published_version.number if project.published_version_id else None

    def publish() -> None:
        Project.objects.filter(pk=project.pk).update(
            published_version=target, updated_at=timezone.now()
        )
        audit.record(ctx, "artifact.rollback", details={"version": number, "previous": previous})
        payload = _published_payload(project, number)
        broker.emit(ctx, "artifact.published", {**payload, "previous": previous, "rollback": True})

    apply_plan(project.name, old, new.artifact, plan, then=publish)
    hosts.invalidate()
    return plan
