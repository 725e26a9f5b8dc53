"""The data API: one generic view set over every object of the request's kernel.

Routes (ObjectStack protocol 17): GET/POST /api/v1/data/<object>, GET/PATCH/PUT/DELETE
/api/v1/data/<object>/<id>, POST /api/v1/data/<object>/query, POST .../createMany,
.../updateMany, .../deleteMany and .../batch. Views are thin: parse, call objectql, answer.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.objectql import params, query, write
from apps.objectql.exceptions import ValidationFailed


def _query_params(request: Request) -> dict[str, Any]:
    return {key: request.query_params.get(key) for key in request.query_params}


def _body(request: Request) -> Any:
    data = request.data
    return data


class ObjectCollectionView(APIView):
    """GET lists records, POST creates one."""

    def get(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        spec = params.parse(_query_params(request), from_query_string=True)
        return Response(query.list_records(ctx, object_name, spec))

    def post(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        ctx.kernel.object(object_name)
        return Response(
            write.create_record(ctx, object_name, _body(request)), status=status.HTTP_201_CREATED
        )


class ObjectRecordView(APIView):
    """GET, PATCH (PUT) and DELETE one record by id."""

    def get(self, request: Request, object_name: str, record_id: str) -> Response:
        ctx = request_context(request)
        spec = params.parse(_query_params(request), from_query_string=True)
        return Response(query.get_record(ctx, object_name, record_id, spec))

    def patch(self, request: Request, object_name: str, record_id: str) -> Response:
        ctx = request_context(request)
        ctx.kernel.object(object_name)
        return Response(write.update_record(ctx, object_name, record_id, _body(request)))

    put = patch

    def delete(self, request: Request, object_name: str, record_id: str) -> Response:
        ctx = request_context(request)
        ctx.kernel.object(object_name)
        return Response(write.delete_record(ctx, object_name, record_id))


class ObjectQueryView(APIView):
    """POST /query: the list parameters as a JSON body."""

    def post(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        body = _body(request)
        if not isinstance(body, dict):
            raise ValidationFailed("the query body must be a JSON object")
        spec = params.parse(body, from_query_string=False)
        return Response(query.list_records(ctx, object_name, spec))


def _field(body: Any, *names: str) -> Any:
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    for name in names:
        if name in body:
            return body[name]
    raise ValidationFailed(f"the body needs '{names[0]}'", field=names[0])


class ObjectBatchView(APIView):
    """POST createMany / updateMany / deleteMany / batch; all-or-nothing."""

    def post(self, request: Request, object_name: str, operation: str) -> Response:
        ctx = request_context(request)
        ctx.kernel.object(object_name)
        body = _body(request)
        if operation == "batch":
            if not isinstance(body, dict):
                raise ValidationFailed("the body must be a JSON object")
            operation = {
                "create": "createMany",
                "update": "updateMany",
                "delete": "deleteMany",
            }.get(body.get("operation"), "")
            if not operation:
                raise ValidationFailed(
                    "operation must be create, update or delete", field="operation"
                )
        if operation == "createMany":
            result = write.create_many(ctx, object_name, _field(body, "records", "data"))
            return Response(result, status=status.HTTP_201_CREATED)
        if operation == "updateMany":
            return Response(write.update_many(ctx, object_name, _field(body, "records", "data")))
        if operation == "deleteMany":
            return Response(write.delete_many(ctx, object_name, _field(body, "ids", "records")))
        raise ValidationFailed(f"unknown batch operation '{operation}'")
