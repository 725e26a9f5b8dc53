"""Flows and notifications over HTTP. Thin: parse, call apps.automation, answer.

- `POST /api/v1/automation/<flow>/trigger` `{inputs?, recordId?, objectName?, record?,
  background?}`: runs the flow now (201, the run) or as a job (`background: true`, 202).
  Active `api`, `screen` and `autolaunched` flows may be triggered by any member; draft
  flows and record or schedule flows only by project admins (to test them).
- `GET /api/v1/automation/runs` (`flow`, `status`, `awaiting=me`, `top`, `skip`),
  `GET /api/v1/automation/runs/<id>`: the user's own runs (admins: all of the project);
  an approver of a waiting step sees that run without its variables and trace.
- `POST /api/v1/automation/runs/<id>/resume`: screen inputs, or `{decision, comment}`.
- `POST /api/v1/automation/runs/<id>/cancel`: the run's user or an admin, while waiting.
- `GET /api/v1/notifications` (`unread=true`, `top`, `skip`),
  `POST /api/v1/notifications/<id>/read`.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.api.jobs import accepted, is_project_admin
from apps.automation import flows, notifications
from apps.automation.flows.definition import kernel_flows
from apps.automation.flows.exceptions import RunNotFound, RunNotWaiting
from apps.automation.models import FlowRun
from apps.objectql.exceptions import Forbidden, InvalidField, RecordNotFound, ValidationFailed
from apps.objectql.params import QuerySpec
from apps.objectql.query import get_record
from apps.projects.context import Context

TRIGGER_KEYS = frozenset({"inputs", "recordId", "objectName", "record", "background"})
OPEN_TYPES = frozenset({"api", "screen", "autolaunched"})
MAX_PAGE = 200


def _stamp(value) -> str | None:
    return (
        None if value is None else value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def serialize_run(run: FlowRun, *, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": run.id,
        "flow": run.flow,
        "label": run.flow_label or run.flow,
        "status": run.status,
        "trigger": run.trigger,
        "runAs": run.run_as,
        "user": run.user_id,
        "object": run.object_name or None,
        "recordId": run.record_id or None,
        "currentNode": run.current_node or None,
        "waiting": run.waiting,
        "parent": run.parent_id,
        "startedAt": _stamp(run.started_at),
        "updatedAt": _stamp(run.updated_at),
        "endedAt": _stamp(run.ended_at),
    }
    if full:
        body.update(
            variables=run.variables,
            outputs=run.outputs,
            error=run.error or None,
            trace=run.trace,
        )
    return body


def _awaits(run: FlowRun, user_id: int | None) -> bool:
    waiting = run.waiting or {}
    return (
        run.status == FlowRun.Status.WAITING
        and waiting.get("kind") == "approval"
        and user_id in waiting.get("approvers", [])
    )


def _page(request: Request) -> tuple[int, int]:
    try:
        top = min(int(request.query_params.get("top", 50)), MAX_PAGE)
        skip = int(request.query_params.get("skip", 0))
    except ValueError:
        raise ValidationFailed("top and skip must be integers", field="top") from None
    if top < 0 or skip < 0:
        raise ValidationFailed("top and skip must not be negative", field="top")
    return top, skip


class TriggerFlowView(APIView):
    def post(self, request: Request, flow_name: str) -> Response:
        ctx = request_context(request)
        graph = kernel_flows(ctx.kernel).get(flow_name)
        body = request.data if request.data is not None else {}
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object")
        for key in body:
            if key not in TRIGGER_KEYS:
                raise InvalidField(f"unknown key '{key}'", field=key)
        if not (graph.active and graph.flow.type in OPEN_TYPES) and not is_project_admin(ctx):
            raise Forbidden(
                f"flow '{flow_name}' is {graph.flow.status} and of type {graph.flow.type}: "
                "only project admins may trigger it by hand"
            )
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise ValidationFailed("inputs must be a JSON object", field="inputs")
        declared = {v.name for v in graph.flow.variables if v.is_input}
        if graph.flow.variables:
            for name in inputs:
                if name not in declared:
                    raise ValidationFailed(
                        f"flow '{flow_name}' has no input variable '{name}'", field=f"inputs.{name}"
                    )
        record, object_name, record_id = self._record(ctx, graph, body)
        if body.get("background"):
            job = flows.launch(
                ctx, flow_name, inputs, object_name=object_name, record_id=record_id,
                record=record if record_id is None else None, trigger="api",
            )  # fmt: skip
            return accepted(job)
        run = flows.run(ctx, flow_name, inputs, record=record, trigger="api")
        return Response(serialize_run(run), status=status.HTTP_201_CREATED)

    @staticmethod
    def _record(ctx: Context, graph, body: dict) -> tuple[Any, str | None, str | None]:
        record_id = body.get("recordId")
        if record_id is None:
            record = body.get("record")
            if record is not None and not isinstance(record, dict):
                raise ValidationFailed("record must be a JSON object", field="record")
            return record, None, None
        if not isinstance(record_id, str) or not record_id:
            raise ValidationFailed("recordId must be a record id", field="recordId")
        object_name = body.get("objectName") or graph.object_name
        if not isinstance(object_name, str) or not object_name:
            raise ValidationFailed("objectName is needed with recordId", field="objectName")
        record = get_record(ctx, object_name, record_id, QuerySpec(top=1))["record"]
        return record, object_name, record_id


def _visible_run(ctx: Context, run_id: str) -> tuple[FlowRun, bool]:
    """The run and whether the actor sees all of it; RunNotFound when not theirs."""
    run = FlowRun.objects.filter(pk=run_id, project=ctx.project_name).first()
    if run is None:
        raise RunNotFound(f"no flow run '{run_id}'")
    if run.user_id is not None and run.user_id == ctx.user_id or is_project_admin(ctx):
        return run, True
    if _awaits(run, ctx.user_id):
        return run, False
    raise RunNotFound(f"no flow run '{run_id}'")


class FlowRunsView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        top, skip = _page(request)
        rows = FlowRun.objects.filter(project=ctx.project_name)
        for name in ("flow", "status"):
            value = request.query_params.get(name)
            if value:
                rows = rows.filter(**{name: value})
        if request.query_params.get("awaiting") == "me":
            waiting = rows.filter(status=FlowRun.Status.WAITING)
            runs = [r for r in waiting.order_by("-started_at")[:1000] if _awaits(r, ctx.user_id)]
            page = runs[skip : skip + top]
            return Response(
                {"runs": [serialize_run(r, full=False) for r in page], "total": len(runs)}
            )
        if not is_project_admin(ctx):
            rows = rows.filter(user_id=ctx.user_id)
        total = rows.count()
        page = list(rows.order_by("-started_at", "id")[skip : skip + top])
        return Response({"runs": [serialize_run(r) for r in page], "total": total})


class FlowRunView(APIView):
    def get(self, request: Request, run_id: str) -> Response:
        ctx = request_context(request)
        run, full = _visible_run(ctx, run_id)
        return Response(serialize_run(run, full=full))


class FlowRunResumeView(APIView):
    def post(self, request: Request, run_id: str) -> Response:
        ctx = request_context(request)
        _, full = _visible_run(ctx, run_id)  # 404 for runs the actor may not know about
        payload = request.data if request.data is not None else {}
        run = flows.resume(ctx, run_id, payload)
        return Response(serialize_run(run, full=full))


class FlowRunCancelView(APIView):
    def post(self, request: Request, run_id: str) -> Response:
        ctx = request_context(request)
        run, full = _visible_run(ctx, run_id)
        if not full:
            raise Forbidden("only the run's user or a project admin may cancel it")
        updated = FlowRun.objects.filter(pk=run.pk, status=FlowRun.Status.WAITING).update(
            status=FlowRun.Status.CANCELLED, waiting=None, ended_at=timezone.now(),
            updated_at=timezone.now(),
        )  # fmt: skip
        if not updated:
            raise RunNotWaiting(f"the run is {run.status}; only waiting runs are cancelled")
        run.refresh_from_db()
        return Response(serialize_run(run))


class NotificationsView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        top, skip = _page(request)
        unread_only = request.query_params.get("unread") in ("1", "true", "yes")
        rows = notifications.for_user(ctx, unread_only=unread_only)
        page = list(rows[skip : skip + top])
        return Response(
            {
                "notifications": [notifications.serialize(n) for n in page],
                "total": rows.count(),
                "unread": notifications.for_user(ctx, unread_only=True).count(),
            }
        )


class NotificationReadView(APIView):
    def post(self, request: Request, notification_id: str) -> Response:
        ctx = request_context(request)
        row = notifications.mark_read(ctx, int(notification_id))
        if row is None:
            raise RecordNotFound(f"no notification '{notification_id}'")
        return Response(notifications.serialize(row))
