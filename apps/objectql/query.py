"""Secured reads: list, get and query, always AND-ed with the actor's row scope."""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.expressions import OrderBy

from apps.kernel.budgets import charge_rows
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql import computed
from apps.objectql.exceptions import Forbidden, InvalidField, InvalidQuery, RecordNotFound
from apps.objectql.params import QuerySpec
from apps.objectql.plans import compiled_page
from apps.objectql.serialize import Serializer
from apps.projects.context import Context
from apps.security.access import Access, object_access
from apps.security.rules import MATCH_ALL, compile_filter
from apps.security.rules.exceptions import InvalidFilter, UnknownField
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS, ObjectResolver

MAX_SEARCH_LENGTH = 200


def readable_access(ctx: Context, runtime: ObjectRuntime) -> Access:
    access = object_access(ctx, runtime)
    if not access.can_read:
        raise Forbidden(f"you may not read {runtime.name}")
    return access


def resolver_for(ctx: Context, runtime: ObjectRuntime, access: Access) -> ObjectResolver:
    return ObjectResolver(
        ctx.kernel,
        runtime,
        access.readable,
        readable_of=lambda target: object_access(ctx, target).readable,
        scope_of=lambda target: _limiting_scope(object_access(ctx, target)),
    )


def _limiting_scope(access: Access) -> Q | None:
    """The read scope of a lookup's target, None when it is every row."""
    return None if access.read_scope is MATCH_ALL else access.read_scope


def scoped(ctx: Context, runtime: ObjectRuntime, access: Access) -> QuerySet:
    """The object's rows the actor may read."""
    rows = runtime.model._base_manager.all()
    if access.read_scope is not MATCH_ALL:
        rows = rows.filter(access.read_scope)
    return rows


def apply_filters(
    ctx: Context, runtime: ObjectRuntime, access: Access, rows: QuerySet, spec: QuerySpec
) -> QuerySet:
    resolver = resolver_for(ctx, runtime, access)
    for filter_spec in spec.filters:
        if filter_spec in (None, {}, []):
            continue
        try:
            rows = rows.filter(compile_filter(filter_spec, resolver))
        except UnknownField as error:
            raise InvalidField(f"unknown field '{error.field}'", field=error.field) from None
        except InvalidFilter as error:
            raise InvalidQuery(error.message, field=error.field) from None
    if spec.search:
        rows = rows.filter(search_q(runtime, access, spec.search))
    return rows


def search_q(runtime: ObjectRuntime, access: Access, text: str) -> Q:
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidQuery(f"search is longer than {MAX_SEARCH_LENGTH} characters", field="search")
    columns = [c for c in runtime.search_columns if c in access.readable]
    if not columns:
        return Q(pk__in=[])
    query = Q()
    for column in columns:
        query |= Q(**{f"{column}__icontains": text})
    return query


def order_by(
    ctx: Context, runtime: ObjectRuntime, access: Access, spec: QuerySpec
) -> list[str | OrderBy]:
    """The ORDER BY of a list. NULL sorts as the smallest value (first ascending, last
    descending) on every database; PostgreSQL alone would put it the other way round."""
    resolver = resolver_for(ctx, runtime, access)
    ordering: list[str | OrderBy] = []
    lookups = set()
    for name, descending in spec.sort:
        definition = runtime.fields.get(name)
        guard = None
        if (
            definition is not None
            and definition.definition.type == "summary"
            and name in access.readable
        ):
            lookup = name
        else:
            try:
                resolved = resolver.resolve(name)
            except UnknownField:
                raise InvalidField(f"unknown field '{name}'", field=name) from None
            if not resolved.fieldtype.sortable:
                raise InvalidField(f"field '{name}' cannot be sorted", field=name)
            lookup = resolved.lookup
            guard = resolved.guard
        lookups.add(lookup)
        column = F(lookup)
        if guard is not None:  # a related row out of the actor's scope sorts as no value
            column = Case(When(guard, then=column), default=None)
        ordering.append(
            column.desc(nulls_last=True) if descending else column.asc(nulls_first=True)
        )
    if not lookups & {"pk", "id"}:
        ordering.append("-created_at" if not ordering else "pk")
    return ordering


def selected_fields(runtime: ObjectRuntime, access: Access, spec: QuerySpec) -> list[str]:
    """API field names to return: the selection or every readable field."""
    if spec.select is None:
        return [
            n for n in runtime.read_columns if n in SYSTEM_FIELD_DEFS or n in access.readable
        ] + [n for n in runtime.computed if n in access.readable]
    names = ["id"]
    for name in spec.select:
        if name in SYSTEM_FIELD_DEFS:
            names.append(name)
            continue
        field = runtime.fields.get(name)
        if field is None or name not in access.readable or not field.type.returned:
            raise InvalidField(f"unknown field '{name}'", field=name)
        names.append(name)
    return list(dict.fromkeys(names))


def list_records(ctx: Context, object_name: str, spec: QuerySpec) -> dict[str, Any]:
    kernel: Kernel = ctx.kernel
    runtime = kernel.object(object_name)
    access = readable_access(ctx, runtime)
    serializer = Serializer.for_request(
        ctx, runtime, access, selected_fields(runtime, access, spec), spec.expand
    )

    def build() -> tuple[QuerySet, tuple[str, ...], QuerySet]:
        rows = apply_filters(ctx, runtime, access, scoped(ctx, runtime, access), spec)
        ordering = order_by(ctx, runtime, access, spec)
        sorted_summaries = [
            name
            for name, _ in spec.sort
            if name in runtime.fields and runtime.fields[name].definition.type == "summary"
        ]
        if sorted_summaries:  # order_by() needs the summary subqueries to sort on them
            rows = rows.annotate(**computed.summary_annotations(kernel, runtime, sorted_summaries))
        page, columns = serializer.page(rows.order_by(*ordering), spec.skip, spec.top + 1)
        return page, columns, rows

    read = compiled_page(runtime, access, _list_key(spec), build)
    page = read.fetch()
    if ctx.budgets:
        charge_rows(ctx, len(page))
    has_more = len(page) > spec.top
    records = serializer.render(page[: spec.top])
    if not spec.count:
        total = None
    elif has_more or (spec.skip and not records):
        total = read.count()
    else:
        total = spec.skip + len(records)
    return {"object": object_name, "records": records, "total": total, "hasMore": has_more}


def _list_key(spec: QuerySpec) -> bytes | None:
    """What decides a list's SQL (see apps.objectql.plans.compiled_page); None when a
    filter value has no JSON form (a spec built in Python): then it is compiled afresh."""
    try:
        return orjson.dumps(
            [spec.filters, spec.sort, spec.select, spec.search, spec.skip, spec.top],
            option=orjson.OPT_NON_STR_KEYS,
        )
    except TypeError:
        return None


def get_record(ctx: Context, object_name: str, record_id: str, spec: QuerySpec) -> dict[str, Any]:
    kernel: Kernel = ctx.kernel
    runtime = kernel.object(object_name)
    access = readable_access(ctx, runtime)
    serializer = Serializer.for_request(
        ctx, runtime, access, selected_fields(runtime, access, spec), spec.expand
    )
    page = serializer.fetch(scoped(ctx, runtime, access).filter(pk=str(record_id)), 0, 1)
    if ctx.budgets:
        charge_rows(ctx, len(page))
    if not page:
        raise RecordNotFound(f"{object_name} '{record_id}' not found")
    return {"object": object_name, "id": str(record_id), "record": serializer.render(page)[0]}
