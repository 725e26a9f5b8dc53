"""Exports: every record a list query matches, as CSV or JSON, written to file storage.

`check_export` validates the request exactly as the list route does (unknown fields,
filters, sort: 400) before anything is queued; `export_records` is the job function
(apps.api.transfers queues it): it pages through `query.list_records` as the submitting
user, so their row scope and field rules apply to the file as they do to the API, and
stores the file under `exports/<project>/<job id>.<format>` of STORAGES["files"].
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

import orjson
from django.conf import settings
from django.core.files.base import ContentFile

from apps.objectql import params, query
from apps.objectql.exceptions import ValidationFailed
from apps.objectql.filestore import file_storage
from apps.projects.context import Context

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
EXPORT_KIND = "data.export"


def export_params(body: Any) -> tuple[str, dict[str, Any]]:
    """(format, list parameters) of an export body `{format, filter?, sort?, select?, ...}`."""
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    fmt = body.get("format", "csv")
    if fmt not in FORMATS:
        raise ValidationFailed("format must be 'csv' or 'json'", field="format")
    return fmt, {k: v for k, v in body.items() if k not in ("format", "top", "limit", "skip")}


def check_export(ctx: Context, object_name: str, list_params: dict[str, Any]) -> None:
    """Raise the list route's 400/403 for these parameters (one row is read, no more)."""
    spec = params.parse(list_params, from_query_string=False)
    query.list_records(ctx, object_name, dataclasses.replace(spec, top=0, count=False))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def to_csv(columns: list[str], records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return out.getvalue().encode()


def export_records(
    ctx: Context, *, object_name: str, file_format: str, list_params: dict[str, Any]
) -> dict[str, Any]:
    """The job: read every matching record as the user, store the file, describe it."""
    spec = params.parse(list_params, from_query_string=False)
    records: list[dict[str, Any]] = []
    page_size = settings.OS_MAX_PAGE_SIZE
    while True:
        page = query.list_records(
            ctx,
            object_name,
            dataclasses.replace(spec, top=page_size, skip=len(records), count=False),
        )
        records.extend(page["records"])
        if not page["hasMore"]:
            break
    runtime = ctx.kernel.object(object_name)
    columns = query.selected_fields(runtime, query.readable_access(ctx, runtime), spec)
    content = to_csv(columns, records) if file_format == "csv" else orjson.dumps(records)
    job_id = ctx.extra.get("job_id", "adhoc")
    key = file_storage().save(
        f"exports/{ctx.project_name}/{job_id}.{file_format}", ContentFile(content)
    )
    return {
        "rows": len(records),
        "format": file_format,
        "object": object_name,
        "file": key,
        "download": f"/api/v1/exports/{job_id}",
    }
