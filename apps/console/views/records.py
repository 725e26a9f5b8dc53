"""Record pages: list (grid, grouped, kanban), add, change, delete, history, lookup search.

Every read is `objectql.query` and every write `objectql.write` with the reader's
Context, so rows, fields and buttons are exactly what the API allows: an object the
reader may not read answers 403, a record outside its scope 404 (also by raw id).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.query import list_events, parse_query
from apps.console import fields as widgets
from apps.console.dashboards import Tokens, compute, resolve_tokens
from apps.console.forms import RecordForm, lookup_choices
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
from apps.console.views.common import PREFIX, Console, console_view, error_page, page
from apps.kernel.kernel import ObjectRuntime
from apps.objectql import files, query, write
from apps.objectql.exceptions import (
    Forbidden,
    InvalidField,
    InvalidQuery,
    ObjectQLError,
    RecordNotFound,
)
from apps.objectql.params import QuerySpec, parse_sort
from apps.security.access import Access, object_access
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS

KANBAN_LIMIT = 200


def object_url(object_name: str, record_id: str | None = None, suffix: str = "") -> str:
    base = f"{PREFIX}/o/{object_name}/"
    return f"{base}{record_id}/{suffix}" if record_id else f"{base}{suffix}"


def _object(console: Console, object_name: str) -> tuple[ObjectRuntime, Access]:
    runtime = console.kernel.object(object_name)
    return runtime, object_access(console.ctx, runtime)


def _expandable(runtime: ObjectRuntime, access: Access, names: list[str]) -> list[str]:
    return [
        n
        for n in names
        if n in runtime.fields and runtime.fields[n].type.relational and n in access.readable
    ]


def _column_ok(runtime: ObjectRuntime, access: Access, name: str) -> bool:
    if name in SYSTEM_FIELD_DEFS:
        return True
    field = runtime.fields.get(name)
    return field is not None and name in access.readable and field.type.returned


def _cell(console: Console, runtime: ObjectRuntime, name: str, value: Any) -> Any:
    field = runtime.fields.get(name)
    if field is None:  # a system field
        return "–" if value is None else str(value)
    return widgets.display(
        field,
        value,
        lambda f, v, d: console.t.option_label(runtime.name, f, v, d),
        lambda o: console.kernel.object(o).display_field,
    )


@console_view
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return page(request, "console/index.html", title=request.console.site.site_header)


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


def _read(console: Console, runtime: ObjectRuntime, access: Access, record_id: str) -> dict:
    expand = _expandable(runtime, access, list(runtime.fields))
    spec = QuerySpec(top=1, expand=expand)
    return query.get_record(console.ctx, runtime.name, record_id, spec)["record"]


def _save_uploads(console: Console, object_name: str, record_id: str, uploads: dict) -> None:
    for name, upload in uploads.items():
        files.upload_file(console.ctx, object_name, record_id, name, upload,
                          content_type=getattr(upload, "content_type", None))  # fmt: skip


def _form_page(request: HttpRequest, form: RecordForm, status: int, **extra: Any) -> HttpResponse:
    record_id = extra.get("record_id")
    suffix = f"visibility/?form={form.spec.name}"
    visibility_url = object_url(
        extra["object_name"], record_id, suffix if record_id else f"add/{suffix}"
    )
    return page(request, "console/form.html", status=status, form=form, errors=form.form.errors,
                non_field_errors=form.form.non_field_errors(), visibility_url=visibility_url,
                **extra)  # fmt: skip


@console_view
@require_POST
def form_visibility(
    request: HttpRequest, object_name: str, record_id: str | None = None
) -> HttpResponse:
    """Which rows and sections of the form are shown for the posted (unsaved) values:
    `{fields: {name: bool}, sections: {name: bool}}`. The same access checks as the form
    itself (403 without the right, 404 for a record outside the reader's scope); nothing
    is written."""
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if record_id is None and not access.can_create:
        raise Forbidden(f"you may not create {object_name}")
    if record_id is not None and not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    record = _read(console, runtime, access, record_id) if record_id is not None else None
    spec = console.site.pages[object_name].form_view(request.GET.get("form"))
    form = RecordForm(console.ctx, console.site, console.t, runtime, access, spec, record,
                      data=request.POST)  # fmt: skip
    return JsonResponse(form.visibility())


@console_view
@require_http_methods(["GET", "POST"])
def record_add(request: HttpRequest, object_name: str) -> HttpResponse:
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_create:
        raise Forbidden(f"you may not create {object_name}")
    spec = console.site.pages[object_name].form_view(request.GET.get("form"))
    title = f"Add {console.site.object_label(console.t, object_name)}"
    post = request.method == "POST"
    form = RecordForm(console.ctx, console.site, console.t, runtime, access, spec, None,
                      data=request.POST if post else None, files=request.FILES if post else None)  # fmt: skip
    extra = {"title": title, "object_name": object_name, "record_id": None,
             "object_label": console.site.object_label(console.t, object_name, plural=True)}  # fmt: skip
    if not post:
        return _form_page(request, form, 200, **extra)
    if form.is_valid():
        payload, uploads = form.payload()
        if not form.form.errors:
            try:
                created = write.create_record(console.ctx, object_name, payload)
                _save_uploads(console, object_name, created["id"], uploads)
            except ObjectQLError as error:
                form.show_error(error)
            else:
                messages.success(
                    request, f"{console.site.object_label(console.t, object_name)} added."
                )
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(object_url(object_name, suffix="add/"))
                if access.can_read and len(created["record"]) > 1:
                    return HttpResponseRedirect(object_url(object_name, created["id"]))
                return HttpResponseRedirect(object_url(object_name))
    return _form_page(request, form, 400, **extra)


@console_view
@require_http_methods(["GET", "POST"])
def record_change(request: HttpRequest, object_name: str, record_id: str) -> HttpResponse:
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    record = _read(console, runtime, access, record_id)
    spec = console.site.pages[object_name].form_view(request.GET.get("form"))
    post = request.method == "POST"
    if post and not access.can_edit:
        raise Forbidden(f"you may not edit {object_name}")
    form = RecordForm(console.ctx, console.site, console.t, runtime, access, spec, record,
                      data=request.POST if post else None, files=request.FILES if post else None)  # fmt: skip
    display = runtime.display_field
    name = record.get(display) if display else None
    extra = {
        "title": str(name if name not in (None, "") else record_id),
        "object_name": object_name,
        "record_id": record_id,
        "object_label": console.site.object_label(console.t, object_name, plural=True),
        "can_delete": access.can_delete,
        "can_edit": access.can_edit,
        "record_actions": action_links(console, object_name, "record_header", record, record_id),
    }
    if not post:
        return _form_page(request, form, 200, **extra)
    if form.is_valid():
        payload, uploads = form.payload()
        if not form.form.errors:
            try:
                if payload:
                    write.update_record(console.ctx, object_name, record_id, payload)
                _save_uploads(console, object_name, record_id, uploads)
            except RecordNotFound:
                raise
            except ObjectQLError as error:
                form.show_error(error)
            else:
                messages.success(
                    request, f"{console.site.object_label(console.t, object_name)} saved."
                )
                return HttpResponseRedirect(object_url(object_name, record_id))
    return _form_page(request, form, 400, **extra)


@console_view
@require_http_methods(["GET", "POST"])
def record_delete(request: HttpRequest, object_name: str, record_id: str) -> HttpResponse:
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    record = _read(console, runtime, access, record_id)
    if not access.can_delete:
        raise Forbidden(f"you may not delete {object_name}")
    label = console.site.object_label(console.t, object_name)
    if request.method == "POST":
        write.delete_record(console.ctx, object_name, record_id)
        messages.success(request, f"{label} deleted.")
        return HttpResponseRedirect(object_url(object_name))
    display = runtime.display_field
    return page(request, "console/delete.html", title=f"Delete {label}", object_name=object_name,
                record_id=record_id, name=record.get(display) if display else record_id,
                object_label=console.site.object_label(console.t, object_name, plural=True))  # fmt: skip


@console_view
@require_http_methods(["POST"])
def bulk_delete(request: HttpRequest, object_name: str) -> HttpResponse:
    """Delete the selected records (all or none); the list's confirm step posts `confirm`."""
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    if not access.can_delete:
        raise Forbidden(f"you may not delete {object_name}")
    ids = [i for i in request.POST.getlist("ids") if i]
    if not ids:
        messages.warning(request, "Select records first.")
        return HttpResponseRedirect(object_url(object_name))
    if "confirm" not in request.POST:
        display = runtime.display_field if runtime.display_field in access.readable else None
        spec = QuerySpec(
            top=len(ids), filters=[{"id": {"$in": ids}}], select=[display] if display else None
        )
        found = query.list_records(console.ctx, object_name, spec)["records"]
        if len(found) != len(set(ids)):
            return error_page(request, 404, "some selected records were not found")
        names = [str(r.get(display) or r["id"]) if display else r["id"] for r in found]
        return page(request, "console/bulk_delete.html", title="Delete selected records",
                    object_name=object_name, ids=ids, names=names)  # fmt: skip
    write.delete_many(console.ctx, object_name, ids)
    messages.success(request, f"{len(ids)} records deleted.")
    return HttpResponseRedirect(object_url(object_name))


@console_view
@require_GET
def record_history(request: HttpRequest, object_name: str, record_id: str) -> HttpResponse:
    """The record's audit rows, with the changes of fields the reader may read only."""
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not access.can_read:
        raise Forbidden(f"you may not read {object_name}")
    record = _read(console, runtime, access, record_id)
    params = {"object": object_name, "record": record_id, "top": "100"}
    events = list_events(console.ctx.project_name, parse_query(params))["records"]
    shown = set(access.readable) | set(SYSTEM_FIELD_DEFS)
    entries = []
    for event in events:
        changes = [
            {
                "field": console.site.field_label(console.t, object_name, c[0]),
                "old": c[1],
                "new": c[2],
            }
            for c in event["changes"] or ()
            if isinstance(c, list) and len(c) == 3 and c[0] in shown
        ]
        entries.append({"time": event["time"], "action": event["action"],
                        "actor": event["actor"], "changes": changes})  # fmt: skip
    display = runtime.display_field
    return page(request, "console/history.html", title=f"History: {record.get(display) or record_id}",
                object_name=object_name, record_id=record_id, entries=entries,
                object_label=console.site.object_label(console.t, object_name, plural=True))  # fmt: skip


@console_view
@require_GET
def autocomplete(request: HttpRequest, object_name: str) -> HttpResponse:
    """`{results: [{id, text}]}` for a lookup field's search box: rows of the target the
    reader may read, matching `term`. Unreadable objects or fields answer 403 / 404."""
    console: Console = request.console
    runtime, access = _object(console, object_name)
    if not (access.can_read or access.can_create):
        return JsonResponse(
            {"error": f"you may not read {object_name}", "code": "FORBIDDEN"}, status=403
        )
    name = request.GET.get("field", "")
    field = runtime.fields.get(name)
    if (
        field is None
        or field.target is None
        or not (name in access.readable or name in access.editable)
    ):
        return JsonResponse({"error": f"no lookup field '{name}'", "code": "INVALID_FIELD", "field": "field"},
                            status=404)  # fmt: skip
    target = console.kernel.object(field.target)
    if not object_access(console.ctx, target).can_read:
        return JsonResponse(
            {"error": f"you may not read {target.name}", "code": "FORBIDDEN"}, status=403
        )
    term = request.GET.get("term", "")[:100]
    results = lookup_choices(console.ctx, target, [], term)
    return JsonResponse({"results": [{"id": i, "text": text} for i, text in results]})
