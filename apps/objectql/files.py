"""Files of media fields (file, image, avatar, video, audio): upload, download, remove.

Each goes through the record's permissions: an upload or removal needs the object's edit
right, the field editable and the record in the actor's write scope; a download needs the
record in the read scope and the field readable (else 404, like a missing file). The
field keeps the JSON descriptor `{name, key, size, mimeType}` and is written through
`write.update_record`, so the field's validation (accept, maxSize), row-level checks and
audit apply as for a PATCH: `multiple` fields get the file appended, others replaced.

A new file is stored before the row is updated and deleted again when the update fails;
a replaced or removed file is deleted after the commit by the update itself (filestore). Size and type
limits come from the field: `maxSize` (capped by OS_MAX_UPLOAD_BYTES) and `accept` (or
the type's implicit `image/*`, `video/*`, `audio/*`), checked against the declared
content type and the file's first bytes (apps.fieldtypes.sniff).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db.models import QuerySet

from apps.artifact.models import Field
from apps.fieldtypes import sniff
from apps.fieldtypes.base import FieldValueError
from apps.kernel.kernel import FieldRuntime, ObjectRuntime
from apps.objectql import filestore, write
from apps.objectql.exceptions import Forbidden, InvalidField, RecordNotFound, ValidationFailed
from apps.objectql.filemeta import MEDIA_TYPES, entries, find, key_prefix, new_key, owned_key
from apps.objectql.query import readable_access, scoped
from apps.objectql.transactions import write_transaction
from apps.objectql.validate import problem
from apps.projects.context import Context
from apps.security.access import Access, object_access
from apps.security.rules import MATCH_ALL

# Shown by browsers in place (raster images, PDF); everything else is an attachment.
INLINE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
     "application/pdf"}
)  # fmt: skip
MAX_DISPLAY_NAME = 255


@dataclass(frozen=True)
class StoredFile:
    """An open stored file and how to serve it."""

    file: IO[bytes]
    name: str
    mime_type: str
    size: int | None
    inline: bool


def upload_limit(definition: Field | None) -> int:
    """The largest upload a field takes: its maxSize, at most OS_MAX_UPLOAD_BYTES."""
    cap = settings.OS_MAX_UPLOAD_BYTES
    if definition is not None and definition.max_size is not None:
        return min(definition.max_size, cap)
    return cap


def too_large(field_name: str, limit: int) -> ValidationFailed:
    return _invalid(field_name, "file_too_large", f"{field_name}: the file is over {limit} bytes")


def _invalid(field_name: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed("validation failed", fields=[problem(field_name, code, message)])


def _media_field(
    runtime: ObjectRuntime, access: Access, name: str, *, writing: bool
) -> FieldRuntime:
    field = runtime.fields.get(name)
    known = field is not None and (name in access.readable or (writing and name in access.editable))
    if field is None or not known:
        if writing:
            raise InvalidField(f"unknown field '{name}'", field=name)
        raise RecordNotFound(f"{runtime.name} has no file field '{name}'")
    if not field.stored or field.definition.type not in MEDIA_TYPES:
        raise InvalidField(f"'{name}' is not a file field", field=name)
    if writing and (name not in access.editable or field.definition.readonly):
        raise Forbidden(
            f"you may not set {name}",
            fields=[problem(name, "not_editable", "this field cannot be set")],
        )
    return field


def _writable(
    ctx: Context, object_name: str, record_id: str, field_name: str
) -> tuple[ObjectRuntime, FieldRuntime, QuerySet]:
    """The object, the field and the record (as a query) when the actor may write it."""
    runtime = ctx.kernel.object(object_name)
    access = object_access(ctx, runtime)
    if not access.can_edit:
        raise Forbidden(f"you may not edit {object_name}")
    field = _media_field(runtime, access, field_name, writing=True)
    rows = scoped(ctx, runtime, access).filter(pk=str(record_id))
    if access.write_scope is not MATCH_ALL:
        rows = rows.filter(access.write_scope)
    return runtime, field, rows


def _locked_value(rows: QuerySet, runtime: ObjectRuntime, field_name: str, record_id: str) -> Any:
    row = rows.select_for_update().values(field_name).first()
    if row is None:
        raise RecordNotFound(f"{runtime.name} '{record_id}' not found")
    return row[field_name]


def check_upload(ctx: Context, object_name: str, record_id: str, field_name: str) -> None:
    """Refuse an upload before its body is read, as `upload_file` would (403, 400, 404)."""
    runtime, _field, rows = _writable(ctx, object_name, record_id, field_name)
    if not rows.exists():
        raise RecordNotFound(f"{runtime.name} '{record_id}' not found")


def upload_file(
    ctx: Context,
    object_name: str,
    record_id: str,
    field_name: str,
    upload: File,
    *,
    name: str | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """Store `upload` as a file of the record's field; the updated record, as PATCH answers."""
    runtime, field, rows = _writable(ctx, object_name, record_id, field_name)
    definition = field.definition
    limit = upload_limit(definition)
    if upload.size is None or upload.size > limit:
        raise too_large(field_name, limit)
    display_name = _display_name(name or upload.name)
    upload.seek(0)
    head = upload.read(sniff.HEAD_BYTES)
    upload.seek(0)
    try:
        mime = sniff.content_type(content_type, display_name, head)
    except FieldValueError as error:
        raise _invalid(field_name, error.code, f"{field_name}: {error.message}") from None
    entry = {"name": display_name, "key": "-", "size": upload.size, "mimeType": mime}
    try:  # accept and maxSize, before any byte is stored
        field.type.clean(definition, [entry] if definition.multiple else entry)
    except FieldValueError as error:
        raise _invalid(field_name, error.code, error.message) from None
    if not rows.exists():
        raise RecordNotFound(f"{object_name} '{record_id}' not found")
    prefix = key_prefix(ctx.kernel.project_name, runtime.name, record_id, field_name)
    entry["key"] = filestore.file_storage().save(new_key(prefix, display_name), upload)
    try:
        with write_transaction():
            current = entries(_locked_value(rows, runtime, field_name, record_id))
            value = [*current, entry] if definition.multiple else entry
            # The update deletes a replaced file after the commit (filestore).
            result = write.update_record(ctx, object_name, record_id, {field_name: value})
    except BaseException:
        filestore.delete_quietly([entry["key"]])
        raise
    return result


def _display_name(name: str | None) -> str:
    """The client's file name without any folder part or control characters."""
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[:MAX_DISPLAY_NAME] if text not in ("", ".", "..") else "file"


def open_file(
    ctx: Context, object_name: str, record_id: str, field_name: str, ref: str
) -> StoredFile:
    """The file `ref` (index or key's last segment) of a record the actor reads; 404 for a
    record out of scope, an unreadable field or an unknown file."""
    runtime = ctx.kernel.object(object_name)
    access = readable_access(ctx, runtime)
    _media_field(runtime, access, field_name, writing=False)
    row = scoped(ctx, runtime, access).filter(pk=str(record_id)).values("id", field_name).first()
    if row is None:
        raise RecordNotFound(f"{object_name} '{record_id}' not found")
    prefix = key_prefix(ctx.kernel.project_name, runtime.name, row["id"], field_name)
    items = entries(row[field_name])
    index = find(items, prefix, ref)
    key = owned_key(prefix, items[index]) if index is not None else None
    if key is None:
        raise RecordNotFound(f"no file '{ref}' in {object_name}.{field_name}")
    try:
        handle, size = filestore.open_stored(key)
    except FileNotFoundError:
        filestore.logger.warning(
            "stored file %s of %s '%s' is missing", key, object_name, row["id"]
        )
        raise RecordNotFound(f"no file '{ref}' in {object_name}.{field_name}") from None
    entry = items[index]
    mime = sniff.normalize(entry.get("mimeType")) or "application/octet-stream"
    name = entry.get("name") if isinstance(entry.get("name"), str) else key.rsplit("/", 1)[-1]
    return StoredFile(handle, _display_name(name), mime, size, inline=mime in INLINE_TYPES)


def remove_file(
    ctx: Context, object_name: str, record_id: str, field_name: str, ref: str
) -> dict[str, Any]:
    """Take the file `ref` out of the field (deleted from storage after the commit)."""
    runtime, field, rows = _writable(ctx, object_name, record_id, field_name)
    prefix = key_prefix(ctx.kernel.project_name, runtime.name, record_id, field_name)
    with write_transaction():
        items = entries(_locked_value(rows, runtime, field_name, record_id))
        index = find(items, prefix, ref)
        if index is None:
            raise RecordNotFound(f"no file '{ref}' in {object_name}.{field_name}")
        del items[index]
        value = items if field.definition.multiple else None
        # The update deletes the removed file after the commit (filestore).
        return write.update_record(ctx, object_name, record_id, {field_name: value})
