"""Jobs (status, events, retry) and workers (heartbeat, labels, facts) in the Console.

A member sees the jobs they submitted; project admins (superusers, `setup.access`) see
every job of the project and the worker registry, as on /api/v1/jobs and /workers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from apps.api.jobs import is_project_admin
from apps.console.views.common import PREFIX, Console, console_view, page
from apps.jobs import query
from apps.jobs.submission import retry
from apps.objectql.exceptions import Forbidden, ObjectQLError


def _scope(request: HttpRequest) -> tuple[Console, bool]:
    console: Console = request.console
    return console, is_project_admin(console.ctx)


@console_view
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    console, see_all = _scope(request)
    params = query.parse_list_query(
        {k: v for k, v in request.GET.items() if k in ("status", "kind")}
    )
    jobs = query.visible_jobs(console.ctx.project_id, console.ctx.user_id, see_all)
    listed = query.list_jobs(jobs, params["status"], params["kind"], 100)
    return page(request, "console/jobs.html", title="Jobs", jobs=listed["records"], total=listed["total"],
                job_status=params["status"] or "", see_all=see_all)  # fmt: skip


@console_view
@require_GET
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    console, see_all = _scope(request)
    job = query.get_job(console.ctx.project_id, console.ctx.user_id, see_all, job_id)
    return page(request, "console/job.html", title=f"Job {job.id}", job=query.job_body(job))


@console_view
@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    console, see_all = _scope(request)
    job = query.get_job(console.ctx.project_id, console.ctx.user_id, see_all, job_id)
    try:
        retry(job.id)
    except ObjectQLError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The job is queued again.")
    return HttpResponseRedirect(f"{PREFIX}/platform/jobs/{job.id}/")


@console_view
@require_GET
def workers(request: HttpRequest) -> HttpResponse:
    console, see_all = _scope(request)
    if not see_all:
        raise Forbidden("only project admins may list workers")
    return page(
        request, "console/workers.html", title="Workers", workers=query.list_workers()["records"]
    )
