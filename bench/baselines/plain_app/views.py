"""Baseline (b): hand-tuned views: one query per read (plus the count), values() rows,
orjson rendering, the row rule as a filter (404 outside it) and the field rule as a
column list (a non-admin neither reads nor writes `amount`)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from common.auth import user_for_header
from common.models import Task
from plain_app.validate import Invalid, clean

OBJECT = "app_task"
SYSTEM = ("id", "owner_id", "created_by", "created_at", "updated_by", "updated_at")
FIELDS = ("title", "status", "priority", "due_date", "amount", "description", "done")
ADMIN_COLUMNS = SYSTEM + FIELDS
PLAIN_COLUMNS = tuple(c for c in ADMIN_COLUMNS if c != "amount")
ADMIN_WRITABLE = frozenset(FIELDS)
PLAIN_WRITABLE = ADMIN_WRITABLE - {"amount"}
SORTABLE = frozenset(ADMIN_COLUMNS)
MAX_TOP = 500


def _default(value: Any) -> Any:
    """Decimal -> JSON number (int when integral); datetime -> `...T09:30:00.000Z` like the
    runtime (JavaScript's toISOString); date -> `YYYY-MM-DD`."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError


OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def reply(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body, default=_default, option=OPTIONS),
                        status=status, content_type="application/json")


def error(status: int, message: str, code: str) -> HttpResponse:
    return reply({"error": message, "code": code}, status)


def _actor(request: HttpRequest) -> tuple[Any, tuple[str, ...], frozenset[str]] | None:
    user = user_for_header(request.META.get("HTTP_AUTHORIZATION", ""))
    if user is None:
        return None
    if user.is_superuser:
        return user, ADMIN_COLUMNS, ADMIN_WRITABLE
    return user, PLAIN_COLUMNS, PLAIN_WRITABLE


def _scope(user: Any):
    rows = Task.objects.all()
    return rows if user.is_superuser else rows.filter(owner_id=user.pk)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(low, min(number, high))


@csrf_exempt
def collection(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if actor is None:
        return error(401, "authentication required", "UNAUTHENTICATED")
    user, columns, writable = actor
    if request.method == "POST":
        return _create(request, user, columns, writable)
    if request.method != "GET":
        return error(405, "method not allowed", "METHOD_NOT_ALLOWED")
    params = request.GET
    top = _int(params.get("top"), 50, 0, MAX_TOP)
    skip = _int(params.get("skip"), 0, 0, 10**9)
    rows = _scope(user)
    if "status" in params:
        rows = rows.filter(status=params["status"])
    order = [s.strip() for s in params.get("sort", "").split(",") if s.strip()]
    for key in order:
        if key.lstrip("-") not in SORTABLE or key.lstrip("-") not in columns:
            return reply({"error": f"unknown field '{key}'", "code": "INVALID_FIELD"}, 400)
    records = list(rows.order_by(*order, "id").values(*columns)[skip:skip + top])
    total = rows.count()
    return reply({"object": OBJECT, "records": records, "total": total,
                  "hasMore": skip + len(records) < total})


def _create(request: HttpRequest, user: Any, columns: tuple[str, ...],
            writable: frozenset[str]) -> HttpResponse:
    try:
        values = clean(orjson.loads(request.body), writable=writable, creating=True)
    except orjson.JSONDecodeError:
        return error(400, "the body is not valid JSON", "VALIDATION_FAILED")
    except Invalid as invalid:
        return reply(invalid.body, invalid.status)
    now = timezone.now()
    task = Task(owner_id=user.pk, created_by=user.pk, updated_by=user.pk, created_at=now,
                updated_at=now, **values)
    task.save(force_insert=True)
    record = {name: getattr(task, name) for name in columns}
    return reply({"object": OBJECT, "id": task.id, "record": record}, 201)


@csrf_exempt
def record(request: HttpRequest, record_id: str) -> HttpResponse:
    actor = _actor(request)
    if actor is None:
        return error(401, "authentication required", "UNAUTHENTICATED")
    user, columns, writable = actor
    rows = _scope(user).filter(pk=record_id)
    if request.method == "PATCH":
        try:
            values = clean(orjson.loads(request.body), writable=writable, creating=False)
        except orjson.JSONDecodeError:
            return error(400, "the body is not valid JSON", "VALIDATION_FAILED")
        except Invalid as invalid:
            return reply(invalid.body, invalid.status)
        if not rows.update(**values, updated_by=user.pk, updated_at=timezone.now()):
            return error(404, f"{OBJECT} '{record_id}' not found", "NOT_FOUND")
    elif request.method == "DELETE":
        if not rows.delete()[0]:
            return error(404, f"{OBJECT} '{record_id}' not found", "NOT_FOUND")
        return reply({"object": OBJECT, "id": record_id, "success": True})
    elif request.method != "GET":
        return error(405, "method not allowed", "METHOD_NOT_ALLOWED")
    found = next(iter(rows.values(*columns)[:1]), None)
    if found is None:
        return error(404, f"{OBJECT} '{record_id}' not found", "NOT_FOUND")
    return reply({"object": OBJECT, "id": record_id, "record": found})
