"""Jobs and workers over HTTP: 202 answers for long work, job status, retry, workers.

A user sees the jobs they submitted in the request's project; project admins (superusers,
permission sets with `systemPermissions: setup.access`) see all of the project's jobs and
the worker registry.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.jobs import query
from apps.jobs.models import Job
from apps.jobs.submission import retry
from apps.objectql.exceptions import Forbidden
from apps.projects.context import Context
from apps.security.access import SETUP_PERMISSIONS, holds_system_permission
from apps.security.principal import principal_of

ADMIN_PERMISSIONS = SETUP_PERMISSIONS


def accepted(job: Job) -> Response:
    """`202 {job_id, status}` with `Location: /api/v1/jobs/<id>`: the answer to long work."""
    response = Response({"job_id": job.id, "status": job.status}, status=202)
    response["Location"] = f"/api/v1/jobs/{job.id}"
    return response


def is_project_admin(ctx: Context) -> bool:
    return holds_system_permission(ctx.kernel, principal_of(ctx), ADMIN_PERMISSIONS)


def _scope(request: Request) -> tuple[Context, bool]:
    ctx = request_context(request)
    return ctx, is_project_admin(ctx)


class JobsView(APIView):
    """GET /api/v1/jobs?status=&kind=&limit=: `{records, total, hasMore}`, newest first."""

    def get(self, request: Request) -> Response:
        ctx, see_all = _scope(request)
        params = query.parse_list_query(dict(request.query_params.items()))
        jobs = query.visible_jobs(ctx.project_id, ctx.user_id, see_all)
        return Response(query.list_jobs(jobs, params["status"], params["kind"], params["limit"]))


class JobView(APIView):
    """GET /api/v1/jobs/<id>: status, result or error, events, and per-worker outcomes."""

    def get(self, request: Request, job_id: str) -> Response:
        ctx, see_all = _scope(request)
        job = query.get_job(ctx.project_id, ctx.user_id, see_all, job_id)
        return Response(query.job_body(job))


class JobRetryView(APIView):
    """POST /api/v1/jobs/<id>/retry: 202 when queued again, 409 unless it failed."""

    def post(self, request: Request, job_id: str) -> Response:
        ctx, see_all = _scope(request)
        job = query.get_job(ctx.project_id, ctx.user_id, see_all, job_id)
        return accepted(retry(job.id))


class WorkersView(APIView):
    """GET /api/v1/workers: the registry with health (project admins only)."""

    def get(self, request: Request) -> Response:
        ctx, see_all = _scope(request)
        if not see_all:
            raise Forbidden("only project admins may list workers")
        return Response(query.list_workers())
