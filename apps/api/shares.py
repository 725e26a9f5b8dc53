"""Manual per-record shares: GET/POST /api/v1/data/<object>/<id>/shares and
DELETE /api/v1/data/<object>/<id>/shares/<share_id>. Thin: parse, call objectql, answer."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.objectql import shares


class RecordSharesView(APIView):
    """GET lists the record's shares; POST `{user, accessLevel}` shares it (201, or 200
    when the user already had a share: its level is updated)."""

    def get(self, request: Request, object_name: str, record_id: str) -> Response:
        ctx = request_context(request)
        return Response(shares.list_shares(ctx, object_name, record_id))

    def post(self, request: Request, object_name: str, record_id: str) -> Response:
        ctx = request_context(request)
        body, created = shares.grant_share(ctx, object_name, record_id, request.data)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RecordShareView(APIView):
    """DELETE revokes one share."""

    def delete(self, request: Request, object_name: str, record_id: str, share_id: str) -> Response:
        ctx = request_context(request)
        return Response(shares.revoke_share(ctx, object_name, record_id, share_id))
