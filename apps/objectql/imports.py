"""Imports: create many records as the submitting user, in all-or-nothing chunks.

The records come as a JSON list or as CSV text (header row = field names; an empty cell
is left out, so the field gets its default). `parse_import` turns the request body into
records before anything is queued; `import_records` is the job function (queued by
apps.api.transfers). Each chunk of OS_MAX_BATCH_SIZE records goes through
`write.create_many`, so validation, row scopes, field rules, hooks and audit are those of
the API; a chunk with a bad record creates nothing, and every bad record of it is
reported by its 1-based row number (found by trying each record again in a savepoint
that is always rolled back).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.fieldtypes.base import FieldValueError
from apps.kernel.kernel import ObjectRuntime
from apps.objectql import write
from apps.objectql.exceptions import ObjectQLError, ValidationFailed
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context

IMPORT_KIND = "data.import"
TYPED_STORAGE = frozenset({"float", "decimal", "integer", "boolean"})


class _DryRun(Exception):
    """Raised to roll back the savepoint of a dry run."""


def records_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(name.strip() for name in header):
        raise ValidationFailed("the CSV body needs a header row of field names")
    names = [name.strip() for name in header]
    if len(set(names)) != len(names):
        raise ValidationFailed("the CSV header names a field twice")
    records = []
    for number, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) > len(names):
            raise ValidationFailed(f"CSV row {number} has more cells than the header")
        records.append({name: cell for name, cell in zip(names, row, strict=False) if cell != ""})
    return records


def parse_import(body: Any) -> list[dict[str, Any]]:
    """The records of a JSON body `{records: [...]}` (or a bare list), or of CSV text."""
    if isinstance(body, str):
        records: Any = records_from_csv(body)
    elif isinstance(body, dict):
        if "records" not in body:
            raise ValidationFailed("the body needs 'records'", field="records")
        records = body["records"]
    else:
        records = body
    if not isinstance(records, list):
        raise ValidationFailed("records must be a JSON array", field="records")
    if not records:
        raise ValidationFailed("there are no records to import", field="records")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValidationFailed(f"records[{index}] must be a JSON object", field="records")
    return records


def typed_cells(runtime: ObjectRuntime, record: dict[str, Any]) -> dict[str, Any]:
    """A CSV record with its number and boolean cells read as the field type reads a
    query-string operand ("12.5", "true"); a cell it cannot read stays text, so the
    create reports it for that row."""
    typed = dict(record)
    for name, value in record.items():
        field = runtime.fields.get(name)
        if field is None or not isinstance(value, str):
            continue
        if field.type.storage_for(field.definition) in TYPED_STORAGE:
            try:
                typed[name] = field.type.coerce_operand(field.definition, value.strip())
            except (FieldValueError, ValueError, TypeError, ArithmeticError):
                pass
    return typed


def _failure(row: int, error: ObjectQLError) -> dict[str, Any]:
    fields = error.fields or [
        {"field": error.field or "", "code": error.code, "message": error.message}
    ]
    return {"row": row, "error": error.message, "fields": fields}


def _bad_rows(ctx: Context, object_name: str, chunk: list[dict], first_row: int) -> list[dict]:
    """Each failing record of a chunk, found by creating each in a rolled-back savepoint."""
    failed = []
    try:
        with write_transaction():
            for offset, record in enumerate(chunk):
                try:
                    with transaction.atomic():
                        write.create_record(ctx, object_name, record)
                except ObjectQLError as error:
                    failed.append(_failure(first_row + offset, error))
            raise _DryRun
    except _DryRun:
        pass
    return failed


def import_records(
    ctx: Context, *, object_name: str, records: list[dict[str, Any]], from_csv: bool = False
) -> dict[str, Any]:
    """The job: create `records` chunk by chunk; `{created, failed: [{row, fields}]}`."""
    if from_csv:
        runtime = ctx.kernel.object(object_name)
        records = [typed_cells(runtime, record) for record in records]
    size = settings.OS_MAX_BATCH_SIZE
    created, failed = 0, []
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        try:
            created += write.create_many(ctx, object_name, chunk)["count"]
        except ObjectQLError as error:
            bad = _bad_rows(ctx, object_name, chunk, start + 1)
            failed.extend(bad or [_failure(start + 1, error)])
    return {
        "object": object_name,
        "rows": len(records),
        "created": created,
        "notCreated": len(records) - created,
        "failed": failed,
    }
