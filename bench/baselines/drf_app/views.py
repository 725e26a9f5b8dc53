"""Baseline (a): ModelViewSet + ModelSerializer + LimitOffsetPagination, the DRF way.

Row rule in `get_queryset` (a non-admin sees only own rows, others answer 404); field
rule by serializer choice (a non-admin's serializer has no `amount`, so it is neither
returned nor written; DRF ignores unknown input keys).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.models import Task

OBJECT = "app_task"
SYSTEM_FIELDS = ["id", "owner_id", "created_by", "created_at", "updated_by", "updated_at"]
FIELDS = ["title", "status", "priority", "due_date", "amount", "description", "done"]


class IsoZDateTimeField(serializers.DateTimeField):
    """`2024-05-01T09:30:00.000Z` (milliseconds, Z), the runtime's wire format."""

    def to_representation(self, value: datetime.datetime) -> str:
        value = value.astimezone(datetime.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class TaskSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: IsoZDateTimeField}

    owner_id = serializers.IntegerField(read_only=True)
    priority = serializers.IntegerField(min_value=1, max_value=5, required=False,
                                        allow_null=True)

    class Meta:
        model = Task
        fields = SYSTEM_FIELDS + FIELDS
        read_only_fields = ["created_by", "created_at", "updated_by", "updated_at"]


class PlainUserTaskSerializer(TaskSerializer):
    class Meta(TaskSerializer.Meta):
        fields = SYSTEM_FIELDS + [f for f in FIELDS if f != "amount"]


class StableOrderingFilter(OrderingFilter):
    """`?sort=-priority`, ties broken by id (as the runtime does)."""

    ordering_param = "sort"

    def get_ordering(self, request, queryset, view) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        return ordering if "id" in ordering else [*ordering, "id"]


class TaskPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500
    limit_query_param = "top"
    offset_query_param = "skip"

    def get_paginated_response(self, data: list) -> Response:
        more = self.offset + len(data) < self.count
        return Response({"object": OBJECT, "records": data, "total": self.count,
                         "hasMore": more})


class TaskViewSet(viewsets.ModelViewSet):
    pagination_class = TaskPagination
    filter_backends = [StableOrderingFilter]
    ordering_fields = SYSTEM_FIELDS + FIELDS
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        rows = Task.objects.all()
        if not self.request.user.is_superuser:
            rows = rows.filter(owner=self.request.user)
        status = self.request.query_params.get("status")
        if status is not None and self.action == "list":
            rows = rows.filter(status=status)
        return rows

    def get_serializer_class(self):
        if self.request.user.is_superuser:
            return TaskSerializer
        return PlainUserTaskSerializer

    def perform_create(self, serializer) -> None:
        now = timezone.now()
        user = self.request.user
        serializer.save(owner=user, created_by=user.pk, updated_by=user.pk,
                        created_at=now, updated_at=now)

    def perform_update(self, serializer) -> None:
        serializer.save(updated_by=self.request.user.pk, updated_at=timezone.now())

    def finalize_response(self, request, response, *args: Any, **kwargs: Any):
        data = response.data
        if self.action in {"retrieve", "create", "partial_update"} and response.status_code < 300:
            response.data = {"object": OBJECT, "id": data["id"], "record": data}
        return super().finalize_response(request, response, *args, **kwargs)


CODES = {400: "VALIDATION_FAILED", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND"}


def exception_handler(exc, context):
    """DRF errors in the runtime's shape: {error, code, fields?}."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    body: dict[str, Any] = {"error": str(detail.get("detail", "validation failed"))
                            if isinstance(detail, dict) else "validation failed",
                            "code": CODES.get(response.status_code, "ERROR")}
    if response.status_code == 400 and isinstance(detail, dict):
        body["fields"] = [{"field": f, "code": "invalid", "message": str(m[0])}
                          for f, m in detail.items() if isinstance(m, list)]
    response.data = body
    return response
