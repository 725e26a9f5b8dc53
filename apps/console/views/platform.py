"""Platform pages for people who manage the app: upload an artifact, review its plan,
approve or reject it (the human-in-the-loop step), list versions, roll back; and the
audit trail for those who may read it. Everything goes through apps.schema and
apps.audit, exactly as the manage.py commands do."""

from __future__ import annotations

import orjson
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.audit.exceptions import InvalidAuditQuery
from apps.audit.permissions import may_read_audit
from apps.audit.query import list_events, parse_query
from apps.console.views.common import PREFIX, Console, console_view, may_manage, page
from apps.kernel.kernel import Kernel
from apps.objectql.exceptions import Forbidden, RecordNotFound
from apps.projects.models import AppVersion, Project
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import RISKS, is_destructive, make_plan
from apps.security.access import rule_problems

MAX_ARTIFACT_BYTES = 20 * 1024 * 1024
AUDIT_FILTERS = ("object", "record", "actor", "action", "since", "until")


class UploadForm(forms.Form):
    artifact = forms.FileField(label="objectstack.json", help_text="The compiled artifact (JSON).")


def _manager(request: HttpRequest) -> Console:
    console: Console = request.console
    if not may_manage(console.ctx):
        raise Forbidden("only people who manage this app may change its artifact")
    return console


def _project(console: Console) -> Project:
    return Project.objects.get(pk=console.ctx.project_id)


@console_view
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    console = _manager(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["artifact"]
        if data.size > MAX_ARTIFACT_BYTES:
            form.add_error("artifact", f"the file is larger than {MAX_ARTIFACT_BYTES} bytes")
        else:
            try:
                raw = orjson.loads(data.read())
                loaded = load_artifact(raw)
            except orjson.JSONDecodeError as error:
                form.add_error("artifact", f"not valid JSON: {error}")
            except ArtifactInvalid as error:
                problems = [str(issue) for issue in error.issues]
                form.add_error(
                    "artifact",
                    f"the artifact is invalid: {len(problems)} problem(s); nothing was changed",
                )
            else:
                warnings = [str(w) for w in loaded.warnings]
                warnings += rule_problems(Kernel("check", 0, 0, loaded))
                try:
                    candidate = publish.propose(_project(console), loaded, user=console.ctx.user)
                except SchemaError as error:
                    form.add_error("artifact", str(error))
                else:
                    if candidate.unchanged:
                        messages.info(
                            request, "The artifact is unchanged: it is the published version."
                        )
                    else:
                        messages.success(
                            request, f"Version {candidate.version.number} is pending approval."
                        )
                    return HttpResponseRedirect(
                        f"{PREFIX}/platform/versions/{candidate.version.number}/"
                    )
    status = 400 if request.method == "POST" else 200
    return page(request, "console/upload.html", status=status, title="Upload an artifact",
                form=form, problems=problems)  # fmt: skip


@console_view
@require_GET
def versions(request: HttpRequest) -> HttpResponse:
    console = _manager(request)
    project = _project(console)
    rows = project.versions.order_by("-number").select_related("created_by", "decided_by")
    return page(request, "console/versions.html", title="Versions", versions=rows,
                published_id=project.published_version_id)  # fmt: skip


def _version(console: Console, number: int) -> AppVersion:
    version = AppVersion.objects.filter(project_id=console.ctx.project_id, number=number).first()
    if version is None:
        raise RecordNotFound(f"no version {number}")
    return version


@console_view
@require_GET
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    """The plan of a version (each operation with its risk) and the approval buttons."""
    console = _manager(request)
    version = _version(console, number)
    project = _project(console)
    plan = version.plan
    if version.status == AppVersion.Status.PENDING:
        plan = [op.as_dict() for op in make_plan(publish.published_artifact(project),
                                                 load_artifact(version.artifact).artifact)]  # fmt: skip
    risk = max((op["risk"] for op in plan), key=RISKS.index, default="metadata-only")
    return page(request, "console/version.html", title=f"Version {version.number}", version=version,
                plan=plan, risk=risk, destructive=is_destructive(plan),
                is_published=project.published_version_id == version.pk,
                can_rollback=version.published_at is not None and project.published_version_id != version.pk)  # fmt: skip


@console_view
@require_POST
def version_decide(request: HttpRequest, number: int) -> HttpResponse:
    """Approve (apply and publish), reject, or roll back to this version."""
    console = _manager(request)
    version = _version(console, number)
    decision = request.POST.get("decision")
    allow = request.POST.get("allow_destructive") == "on"
    user = console.ctx.user
    try:
        if decision == "approve":
            if version.status != AppVersion.Status.PENDING:
                raise SchemaError(f"version {number} is {version.status}, not pending")
            publish.approve(version, allow_destructive=allow, user=user)
            messages.success(request, f"Version {number} is published.")
        elif decision == "reject":
            publish.reject(version, user=user)
            messages.success(request, f"Version {number} was rejected.")
        elif decision == "rollback":
            publish.rollback(_project(console), number, allow_destructive=allow, user=user)
            messages.success(request, f"The project serves version {number} again.")
        else:
            messages.error(request, "Choose approve, reject or rollback.")
    except SchemaError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(f"{PREFIX}/platform/versions/{number}/")


@console_view
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    console: Console = request.console
    if not may_read_audit(console.ctx):
        raise Forbidden("you may not read the audit trail")
    params = {k: request.GET.get(k) for k in (*AUDIT_FILTERS, "skip") if request.GET.get(k)}
    params["top"] = "50"
    error, field = "", ""
    try:
        result = list_events(console.ctx.project_name, parse_query(params))
    except InvalidAuditQuery as problem:
        error, field = problem.message, problem.field or ""
        result = {"records": [], "total": 0, "hasMore": False}
    skip = int(params.get("skip", 0) or 0)
    query = request.GET.copy()
    query.pop("skip", None)
    return page(request, "console/audit.html", status=400 if error else 200, title="Audit trail",
                events=result["records"], total=result["total"], has_more=result["hasMore"],
                filters=[{"name": n, "value": request.GET.get(n, "")} for n in AUDIT_FILTERS],
                error=error, error_field=field, next_skip=skip + 50, prev_skip=max(0, skip - 50),
                skip=skip, query=query.urlencode(), max_bytes=settings.OS_MAX_BODY_BYTES)  # fmt: skip
