"""Webhook deliveries over HTTP, for project admins: the list (e.g. the dead letters) and
a redeliver.

GET  /api/v1/webhooks/deliveries[?status=dead&webhook=&top=&skip=]
     `{deliveries: [...], total, hasMore}`, newest first
POST /api/v1/webhooks/deliveries/<id>/redeliver   202 `{delivery}`: fresh attempts, now
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.api.jobs import is_project_admin
from apps.automation import webhooks
from apps.automation.models_webhooks import WebhookDelivery
from apps.objectql.exceptions import Forbidden, InvalidQuery, RecordNotFound
from apps.projects.context import Context

STATUSES = frozenset(WebhookDelivery.Status.values)


def _admin(request: Request) -> Context:
    ctx = request_context(request)
    if not is_project_admin(ctx):
        raise Forbidden("only project administrators may see webhook deliveries")
    return ctx


def _number(request: Request, name: str, default: int, largest: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise InvalidQuery(f"{name} must be a non-negative integer", field=name)
    return min(int(raw), largest)


class DeliveriesView(APIView):
    def get(self, request: Request) -> Response:
        ctx = _admin(request)
        rows = WebhookDelivery.objects.filter(project=ctx.project_name)
        status = request.query_params.get("status")
        if status:
            if status not in STATUSES:
                raise InvalidQuery(
                    f"status must be one of {', '.join(sorted(STATUSES))}", field="status"
                )
            rows = rows.filter(status=status)
        if request.query_params.get("webhook"):
            rows = rows.filter(webhook=request.query_params["webhook"])
        top = _number(request, "top", settings.OS_DEFAULT_PAGE_SIZE, settings.OS_MAX_PAGE_SIZE)
        skip = _number(request, "skip", 0, 2**31 - 1)
        page = list(rows.order_by("-created_at", "-id")[skip : skip + top + 1])
        return Response(
            {
                "deliveries": [webhooks.describe(d) for d in page[:top]],
                "total": rows.count(),
                "hasMore": len(page) > top,
            }
        )


class RedeliverView(APIView):
    def post(self, request: Request, delivery_id: str) -> Response:
        ctx = _admin(request)
        delivery = WebhookDelivery.objects.filter(pk=delivery_id, project=ctx.project_name).first()
        if delivery is None:
            raise RecordNotFound(f"webhook delivery '{delivery_id}' not found")
        delivery = webhooks.redeliver(delivery)
        webhooks.enqueue(ctx.kernel, delivery)
        return Response({"delivery": webhooks.describe(delivery)}, status=202)
