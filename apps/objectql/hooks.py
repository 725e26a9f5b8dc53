"""The kernel's call points inside a write: validators before it, data events after it.

Both run inside the write transaction and cost nothing when unused: write.py calls
`validate` only when the object has validators and `emit` only when the kernel
`wants` the topic (some subscriber matches it).

- Validators: `validator(ctx, runtime, event, record, previous)` with event "insert" or
  "update", `record` the full after-state in API field names (on update the stored row
  merged with the change) and `previous` the stored row (None on insert). Values are the
  cleaned Python values (Decimal, date, ...). A validator refuses the write by raising
  apps.objectql.exceptions.ValidationFailed; the transaction then rolls back.
- Events: `data.<object>.created|updated|deleted` with payload {object, id, record,
  previous, user_id, request_id}, written to the outbox (apps.kernel.events) and
  delivered after commit. Records are JSON-ready (decimals as numbers, dates and times
  ISO 8601) and leave out password and secret fields. Rows a delete cascades to get
  their own `deleted` event when wanted.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db.models import Model, QuerySet
from django.db.models.deletion import Collector

from apps.kernel.events import broker
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql.exceptions import ValidationFailed
from apps.projects.context import Context

HIDDEN_TYPES = frozenset({"password", "secret"})


def validate(
    ctx: Context,
    runtime: ObjectRuntime,
    event: str,
    record: dict[str, Any],
    previous: dict[str, Any] | None,
    prefix: str = "",
) -> None:
    """Run the object's validators; in a batch their field names get the item's prefix
    (`records[2].amount`)."""
    try:
        for validator in runtime.validators:
            validator(ctx, runtime, event, record, previous)
    except ValidationFailed as error:
        if prefix:
            if error.field is not None:
                error.field = prefix + error.field
            for problem in error.fields or ():
                if isinstance(problem, dict) and problem.get("field"):
                    problem["field"] = prefix + problem["field"]
        raise


def listening(ctx: Context) -> bool:
    """Whether anything subscribes to anything (the hot path's only check when not).
    Seed data written while a version is published is the app's starting state, not
    activity: it emits no events (apps.schema.publish marks that context `seeding`)."""
    return bool(len(ctx.kernel.topics) or len(broker.topics)) and not ctx.extra.get("seeding")


def wants(ctx: Context, runtime: ObjectRuntime, kind: str) -> bool:
    """Whether `data.<object>.<kind>` has a subscriber."""
    return listening(ctx) and ctx.kernel.wants(f"data.{runtime.name}.{kind}")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def event_record(runtime: ObjectRuntime, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as JSON-ready data without password and secret fields."""
    if row is None:
        return None
    shown = {
        name: value
        for name, value in row.items()
        if name not in runtime.fields or runtime.fields[name].definition.type not in HIDDEN_TYPES
    }
    return orjson.loads(
        orjson.dumps(shown, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    )


def emit(
    ctx: Context,
    runtime: ObjectRuntime,
    kind: str,
    record_id: Any,
    record: dict[str, Any] | None,
    previous: dict[str, Any] | None,
) -> None:
    """Write `data.<object>.<kind>` to the outbox (call only when `wants` said so)."""
    broker.emit(
        ctx,
        f"data.{runtime.name}.{kind}",
        {
            "object": runtime.name,
            "id": str(record_id),
            "record": event_record(runtime, record),
            "previous": event_record(runtime, previous),
            "user_id": ctx.user_id,
            "request_id": ctx.request_id,
        },
    )


def cascade_wanted(ctx: Context, runtime: ObjectRuntime) -> bool:
    """Whether a `deleted` event of an object a delete of `runtime` may reach is wanted."""
    kernel: Kernel = ctx.kernel
    if not listening(ctx):
        return False
    seen, todo = set(), [runtime.name]
    while todo:
        name = todo.pop()
        for child, _ in kernel.children.get(name, ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return any(kernel.wants(f"data.{child}.deleted") for child in seen)


def _rows(
    child: ObjectRuntime, rows: QuerySet, deleted: Model
) -> list[tuple[ObjectRuntime, dict[str, Any]]]:
    if child.model is type(deleted):  # a tree: children of the same object, not itself
        rows = rows.exclude(pk=deleted.pk)
    return [(child, row) for row in rows.values(*child.read_columns)]


def delete_collecting(
    ctx: Context, runtime: ObjectRuntime, instance: Model
) -> tuple[dict[str, int], list[tuple[ObjectRuntime, dict[str, Any]]]]:
    """Delete `instance` as Model.delete() does (same Collector) and return, besides the
    per-model counts, the rows of other objects the delete cascaded to, read before."""
    kernel: Kernel = ctx.kernel
    by_model = {rt.model: rt for rt in kernel.objects.values()}
    collector = Collector(using=instance._state.db, origin=instance)
    collector.collect([instance])
    cascaded: list[tuple[ObjectRuntime, dict[str, Any]]] = []
    for model, instances in collector.data.items():
        child = by_model.get(model)
        if child is not None:
            rows = model._base_manager.filter(pk__in=[i.pk for i in instances])
            cascaded.extend(_rows(child, rows, instance))
    for queryset in collector.fast_deletes:
        child = by_model.get(queryset.model)
        if child is not None:
            cascaded.extend(_rows(child, queryset, instance))
    _, per_model = collector.delete()
    return per_model, cascaded
