"""Action routes: list what the actor may run, run one (apps.automation.actions).

GET  /api/v1/actions                          global actions
GET  /api/v1/actions/<object>[?id=&location=]  the object's actions (for a record: visible
                                               ones only, `disabled` evaluated)
POST /api/v1/actions/<object>/<action>[/<id>]  run; body `{params: {...}, ids: [...]}`
POST /api/v1/actions/<action>                  run a global action

A run done now answers 200 `{action, object, id?|ids?, result, message?, refreshAfter}`;
one run as a job (flows, `async` scripts) answers 202 `{job_id, status}`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.automation.actions import ActionResult, available_actions, run_action
from apps.objectql.exceptions import ValidationFailed
from apps.objectql.params import QuerySpec
from apps.objectql.query import get_record

RUN_KEYS = frozenset({"params", "ids"})


def _run_arguments(body: Any) -> tuple[Any, Any]:
    """(params, ids) of a run body: `{params, ids}`; without `params`, the other top-level
    keys are the params (`{"reason": "..."}`)."""
    if body is None or body == "":
        return {}, None
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    if "params" in body:
        unknown = sorted(set(body) - RUN_KEYS)
        if unknown:
            raise ValidationFailed(
                f"unknown key '{unknown[0]}': give params inside 'params'", field=unknown[0]
            )
        return body["params"], body.get("ids")
    params = {k: v for k, v in body.items() if k != "ids"}
    return params, body.get("ids")


def _answer(result: ActionResult) -> Response:
    if result.job is not None:
        from apps.api.jobs import accepted

        return accepted(result.job)
    return Response(result.body)


class GlobalActionsView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        location = request.query_params.get("location") or None
        return Response(
            {"object": None, "actions": available_actions(ctx, None, location=location)}
        )


class ActionsView(APIView):
    """GET lists an object's actions; POST runs the global action of that name."""

    def get(self, request: Request, name: str) -> Response:
        ctx = request_context(request)
        record_id = request.query_params.get("id") or None
        record = None
        if record_id:
            record = get_record(ctx, name, record_id, QuerySpec(top=1))["record"]
        else:
            ctx.kernel.object(name)
        location = request.query_params.get("location") or None
        actions = available_actions(ctx, name, location=location, record=record)
        body: dict[str, Any] = {"object": name, "actions": actions}
        if record_id:
            body["id"] = record_id
        return Response(body)

    def post(self, request: Request, name: str) -> Response:
        ctx = request_context(request)
        params, ids = _run_arguments(request.data)
        if ids is not None:
            raise ValidationFailed("a global action takes no record ids", field="ids")
        return _answer(run_action(ctx, None, name, params=params))


class ObjectActionView(APIView):
    """POST runs an object's action on a record (path), a selection (`ids`) or neither."""

    def post(
        self, request: Request, object_name: str, action_name: str, record_id: str | None = None
    ) -> Response:
        ctx = request_context(request)
        params, ids = _run_arguments(request.data)
        result = run_action(
            ctx, object_name, action_name, record_id=record_id, record_ids=ids, params=params
        )
        return _answer(result)
