"""List pages: grid, grouped, kanban, calendar, gallery and chart views of an object.

The rows are one objectql query with the reader's Context (the view's filter, the
navigation slice, the reader's filters, search, sort and page), so a list never shows a
row or a column the API would not return. Calendar and gallery lay the same rows out
differently (apps.console.listviews); a chart view draws its dataset like a dashboard
widget.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.console import fields as widgets
from apps.console.dashboards import Tokens, compute, resolve_tokens
from apps.console.listviews import (
    CALENDAR_LIMIT,
    DRAWN,
    gallery_cards,
    month_filter,
    month_grid,
    month_of,
    next_month,
    previous_month,
)
from apps.console.pages import ListSpec
from apps.console.views.actions import action_links
from apps.console.views.common import Console, console_view, page
from apps.console.views.records import _cell, _column_ok, _expandable, _object
from apps.kernel.kernel import ObjectRuntime
from apps.objectql import query
from apps.objectql.exceptions import Forbidden, InvalidField, InvalidQuery
from apps.objectql.params import QuerySpec, parse_sort
from apps.security.access import Access
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS

KANBAN_LIMIT = 200


def _list_spec(
    request: HttpRequest, runtime: ObjectRuntime, access: Access, view: ListSpec
) -> tuple[QuerySpec, dict[str, Any]]:
    """The objectql query of a list page and what the page shows about it."""
    console: Console = request.console
    columns = [c for c in view.columns if _column_ok(runtime, access, c)] or ["id"]
    group = view.kanban_field if view.type == "kanban" else view.group_by
    if group and not _column_ok(runtime, access, group):
        group = None
    tokens = Tokens(console.ctx.user_id)
    filters: list[Any] = [resolve_tokens(view.filter, tokens)] if view.filter else []
    nav = request.GET.get("nav")
    if nav:  # a navigation item's data slice (`filters` of an object entry)
        slice_filter = console.site.nav_filters(nav)
        if slice_filter is None:
            raise InvalidQuery(f"no navigation item '{nav}' with filters", field="nav")
        filters.append(resolve_tokens(slice_filter, tokens))
    active: dict[str, str] = {}
    for name in view.filterable:
        value = request.GET.get(f"f_{name}")
        if value is None or value == "" or not _column_ok(runtime, access, name):
            continue
        active[name] = value
        kind = widgets.kind_of(runtime.fields[name])
        filters.append(
            {name: value.lower() in ("1", "true", "yes") if kind == "boolean" else value}
        )
    term = request.GET.get("q", "").strip()
    search = None
    if term:
        if view.searchable is not None:
            names = [n for n in view.searchable if _column_ok(runtime, access, n)]
            filters.append(
                {"$or": [{n: {"$icontains": term}} for n in names]} if names else {"id": None}
            )
        else:
            search = term
    sort_param = request.GET.get("o", "")
    sort = parse_sort("sort", sort_param) if sort_param else list(view.sort)
    if group:
        sort = [(group, False), *[s for s in sort if s[0] != group]]
    page_size = KANBAN_LIMIT if view.type == "kanban" else view.page_size
    extra: list[str] = []
    month, date_field, cover_field = None, view.options.get("startDateField"), None
    if (
        view.type == "calendar"
        and isinstance(date_field, str)
        and _column_ok(runtime, access, date_field)
    ):
        month = month_of(request.GET.get("m"), timezone.localdate())
        filters.append(month_filter(date_field, month))
        extra.append(date_field)
        page_size = CALENDAR_LIMIT
        sort = sort if sort_param else [(date_field, False)]
    else:
        date_field = None
    if view.type == "gallery":
        cover_field = view.options.get("coverField")
        if isinstance(cover_field, str) and _column_ok(runtime, access, cover_field):
            extra.append(cover_field)
        else:
            cover_field = None
    try:
        page_number = max(1, int(request.GET.get("p", "1")))
    except ValueError:
        raise InvalidQuery("p must be a page number", field="p") from None
    select = list(dict.fromkeys(["id", *columns, *([group] if group else []), *extra]))
    spec = QuerySpec(
        top=page_size,
        skip=(page_number - 1) * page_size,
        sort=sort,
        select=select,
        filters=filters,
        expand=_expandable(runtime, access, select),
        search=search,
    )
    shown = {
        "columns": columns,
        "group": group,
        "active": active,
        "term": term,
        "sort": sort_param,
        "page_number": page_number,
        "page_size": page_size,
        "month": month,
        "date_field": date_field,
        "cover_field": cover_field,
    }
    return spec, shown


@console_view
@require_GET
def object_list(request: HttpRequest, object_name: str) -> HttpResponse:
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    pages = console.site.pages[object_name]
    view = pages.list_view(request.GET.get("view"))
    error = ""
    status = 200
    try:
        spec, shown = _list_spec(request, runtime, access, view)
        result = query.list_records(console.ctx, object_name, spec)
    except (InvalidField, InvalidQuery) as problem:
        error, status = problem.message, 400
        spec, shown = QuerySpec(top=0), {"columns": [], "group": None, "active": {}, "term": "",
                                         "sort": "", "page_number": 1, "page_size": 1,
                                         "month": None, "date_field": None, "cover_field": None}  # fmt: skip
        result = {"records": [], "total": 0, "hasMore": False}
    t = console.t
    columns = [
        {
            "name": name,
            "label": console.site.field_label(t, object_name, name),
            "sortable": name in SYSTEM_FIELD_DEFS or runtime.fields[name].type.sortable,
            "sorted": shown["sort"].lstrip("-") == name,
            "descending": shown["sort"].startswith("-"),
        }
        for name in shown["columns"]
    ]
    rows = []
    group = shown["group"]
    for record in result["records"]:
        rows.append(
            {
                "id": record["id"],
                "cells": [_cell(console, runtime, c, record.get(c)) for c in shown["columns"]],
                "group": _cell(console, runtime, group, record.get(group)) if group else None,
            }
        )
    lanes = []
    if view.type == "kanban" and group:
        field = runtime.fields[group]
        known = [(o.value, t.option_label(object_name, group, o.value, o.label or o.value))
                 for o in field.definition.options or ()]  # fmt: skip
        by_value: dict[Any, list] = {}
        for record, row in zip(result["records"], rows, strict=True):
            by_value.setdefault(record.get(group), []).append(row)
        lanes = [{"label": label, "rows": by_value.pop(value, [])} for value, label in known]
        lanes += [
            {"label": str(v) if v is not None else "–", "rows": r} for v, r in by_value.items()
        ]
    layout = _layout(console, runtime, view, shown, result["records"], rows)
    filters = []
    for name in view.filterable:
        if not _column_ok(runtime, access, name):
            continue
        kind = widgets.kind_of(runtime.fields[name])
        choices = (
            [("true", "Yes"), ("false", "No")]
            if kind == "boolean"
            else widgets.options(
                runtime.fields[name], lambda f, v, d: t.option_label(object_name, f, v, d)
            )
        )
        filters.append({"name": name, "label": console.site.field_label(t, object_name, name),
                        "choices": choices, "active": shown["active"].get(name)})  # fmt: skip
    total = result["total"] or 0
    page_count = max(1, -(-total // shown["page_size"]))
    views = [
        {
            "name": name,
            "label": t.view_label(object_name, name, spec_.label),
            "active": spec_ is view,
        }
        for name, spec_ in pages.lists.items()
    ]
    return page(
        request,
        "console/list.html",
        status=status,
        title=console.site.object_label(t, object_name, plural=True),
        object_name=object_name,
        view=view,
        views=views if len(views) > 1 else [],
        columns=columns,
        rows=rows,
        lanes=lanes,
        kanban=bool(lanes),
        **layout,
        grouped=bool(group) and not lanes,
        filters=filters,
        searchable=bool(runtime.search_columns) or view.searchable,
        term=shown["term"],
        total=total,
        page_number=shown["page_number"],
        pages=range(1, page_count + 1) if page_count <= 50 else [],
        page_count=page_count,
        error=error,
        problem=view.problem,
        can_create=access.can_create,
        can_delete=access.can_delete,
        toolbar_actions=action_links(console, object_name, "list_toolbar"),
        bulk_actions=[
            a
            for a in action_links(console, object_name, "list_item")
            if not view.bulk_actions or a["name"] in view.bulk_actions
        ],
        query=request.GET.copy(),
    )


def _layout(console: Console, runtime: ObjectRuntime, view: ListSpec, shown: dict[str, Any],
            records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """What a calendar, gallery or chart view draws instead of (or above) the grid."""
    layout: dict[str, Any] = {"calendar": None, "gallery": None, "chart": None, "view_note": ""}
    if shown["date_field"]:
        first, date_field = shown["month"], shown["date_field"]
        title_field = view.options.get("titleField")
        if not isinstance(title_field, str) or title_field not in shown["columns"]:
            title_field = shown["columns"][0]
        layout["calendar"] = month_grid(first, timezone.localdate(), records, date_field,
                                        lambda r: _cell(console, runtime, title_field, r.get(title_field)))  # fmt: skip
        layout.update(month_label=first.strftime("%B %Y"), month_prev=previous_month(first).strftime("%Y-%m"),
                      month_next=next_month(first).strftime("%Y-%m"),
                      weekdays=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])  # fmt: skip
    elif view.type == "calendar":
        layout["view_note"] = "This calendar's date field cannot be read; it is shown as a grid."
    elif view.type == "gallery":
        layout["gallery"] = gallery_cards(records, rows, shown["cover_field"])
    elif view.type == "chart":
        chart = view.options
        layout["chart"] = compute(console.ctx, console.site, console.t, {
            "id": view.name, "title": view.label, "type": chart.get("chartType") or "bar",
            "dataset": chart.get("dataset"), "dimensions": chart.get("dimensions"),
            "values": chart.get("values"), "layout": {"w": 12}})  # fmt: skip
    if view.type not in DRAWN:
        layout["view_note"] = f"The {view.type} view is shown as a grid here."
    return layout
