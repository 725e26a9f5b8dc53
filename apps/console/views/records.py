"""Record pages: add, change, delete, history, lookup search (lists: apps.console.views.lists).

Every read is `objectql.query` and every write `objectql.write` with the reader's
Context, so rows, fields and buttons are exactly what the API allows: an object the
reader may not read answers 403, a record outside its scope 404 (also by raw id).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.audit.query import list_events, parse_query
from apps.console import fields as widgets
from apps.console.forms import RecordForm, lookup_choices
from apps.console.views.actions import action_links
from apps.console.views.common import PREFIX, Console, console_view, error_page, page
from apps.kernel.kernel import ObjectRuntime
from apps.objectql import files, query, write
from apps.objectql.exceptions import (
    Forbidden,
    ObjectQLError,
    RecordNotFound,
)
from apps.objectql.params import QuerySpec
from apps.objectql.transactions import write_transaction
from apps.security.access import Access, object_access
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS


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


def _read(console: Console, runtime: ObjectRuntime, access: Access, record_id: str) -> dict:
    expand = _expandable(runtime, access, list(runtime.fields))
    spec = QuerySpec(top=1, expand=expand)
    return query.get_record(console.ctx, runtime.name, record_id, spec)["record"]


def _save_uploads(console: Console, object_name: str, record_id: str, uploads: dict) -> None:
    for name, upload in uploads.items():
        files.upload_file(console.ctx, object_name, record_id, name, upload,
                          content_type=getattr(upload, "content_type", None))  # fmt: skip


def _save(
    request: HttpRequest, form: RecordForm, write_record: Any, done: str, *, existing: bool
) -> Any:
    """Write a valid form's record and its files in one transaction (both or neither) and
    say so; None when the form or the write was refused (the errors are on the form). An
    `existing` record gone meanwhile (RecordNotFound) is not a form error: it is a 404."""
    if not form.is_valid():
        return None
    payload, uploads = form.payload()
    if form.form.errors:
        return None
    try:
        with write_transaction():
            result = write_record(payload, uploads)
    except ObjectQLError as error:
        if existing and isinstance(error, RecordNotFound):
            raise
        form.show_error(error)
        return None
    console: Console = request.console
    messages.success(request, f"{console.site.object_label(console.t, form.runtime.name)} {done}.")
    return result


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

    def create(payload: dict, uploads: dict) -> dict:
        created = write.create_record(console.ctx, object_name, payload)
        _save_uploads(console, object_name, created["id"], uploads)
        return created

    created = _save(request, form, create, "added", existing=False)
    if created is None:
        return _form_page(request, form, 400, **extra)
    if "_addanother" in request.POST:
        return HttpResponseRedirect(object_url(object_name, suffix="add/"))
    if access.can_read and len(created["record"]) > 1:
        return HttpResponseRedirect(object_url(object_name, created["id"]))
    return HttpResponseRedirect(object_url(object_name))


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

    def change(payload: dict, uploads: dict) -> bool:
        if payload:
            write.update_record(console.ctx, object_name, record_id, payload)
        _save_uploads(console, object_name, record_id, uploads)
        return True

    if _save(request, form, change, "saved", existing=True) is None:
        return _form_page(request, form, 400, **extra)
    return HttpResponseRedirect(object_url(object_name, record_id))


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
