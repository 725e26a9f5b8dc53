"""GET /api/v1/audit: the request's project audit trail, for users with the audit permission.

Read-only: the route has no POST/PUT/PATCH/DELETE (405). A refusal is a 403 FORBIDDEN,
recorded like every other denial by the exception handler (apps.api.errors).
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.audit.permissions import may_read_audit
from apps.audit.query import list_events, parse_query
from apps.objectql.exceptions import Forbidden


class AuditEventsView(APIView):
    """`{records, total, hasMore}`, newest first; see apps.audit.query for the parameters."""

    def get(self, request: Request) -> Response:
        ctx = request_context(request)
        if not may_read_audit(ctx):
            raise Forbidden("you may not read the audit trail")
        params = {key: request.query_params.get(key) for key in request.query_params}
        return Response(list_events(ctx.project_name, parse_query(params)))
