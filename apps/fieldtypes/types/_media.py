"""Media family (image, file, avatar, video, audio): JSON file descriptors.

A value is `{name, key | url, size?, mimeType?, ...}` (a list of them with
`multiple`). `key` is a storage key, `url` an http(s) URL or a site path (`/...`).
When `mimeType` / `name` / `size` are given they are checked against `accept`
(MIME patterns such as `image/*`, or extensions such as `.pdf`; image, avatar, video
and audio imply `image/*`, `video/*`, `audio/*`) and `max_size` (bytes). Other keys
are kept when their values are JSON scalars. Uploading is done elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import PRESENCE_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import JSON_SCALARS, invalid_type, is_http_url
from apps.fieldtypes.types._list import clean_list, json_column

if TYPE_CHECKING:
    from apps.artifact.models import Field

STRING_KEYS = ("name", "key", "url", "mimeType")


def accept_patterns(field: Field, implicit: tuple[str, ...]) -> list[str]:
    """The field's `accept` list (a list or a comma-separated string), else the type's."""
    accept = field.accept
    if isinstance(accept, str):
        accept = accept.split(",")
    patterns = [p.strip().lower() for p in accept or implicit if p and p.strip()]
    return patterns


def accepted(patterns: list[str], mime: str | None, name: str | None) -> bool:
    """True when a checkable pattern matches, or when no pattern can be checked."""
    checkable = [p for p in patterns if (name if p.startswith(".") else mime)]
    for pattern in checkable:
        if pattern.startswith("."):
            if name and name.lower().endswith(pattern):
                return True
        elif pattern in ("*", "*/*"):
            return True
        elif pattern.endswith("/*"):
            if mime and mime.lower().startswith(pattern[:-1]):
                return True
        elif mime and mime.lower() == pattern:
            return True
    return not checkable


def is_file_url(value: str) -> bool:
    return is_http_url(value) or (value.startswith("/") and not value.startswith("//"))


class MediaFamily(FieldType):
    """A file descriptor (JSON object), or a JSON array of them with `multiple`."""

    storage = "json_file"
    operators = PRESENCE_OPS
    sortable = False
    implicit_accept: ClassVar[tuple[str, ...]] = ()

    def storage_for(self, field: Field) -> str:
        return "json_files" if field.multiple else self.storage

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return json_column(field)

    def clean(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        if field.multiple:
            return clean_list(field, value, lambda item: self.clean_file(field, item))
        return self.clean_file(field, value)

    def clean_file(self, field: Field, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid_type(field, "a file object {name, key|url}", value)
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, JSON_SCALARS):
                raise FieldValueError("invalid_file", f"{field.name}: {key!r} must be a scalar")
        for key in STRING_KEYS:
            if key in value and value[key] is not None and not isinstance(value[key], str):
                raise FieldValueError("invalid_file", f"{field.name}: {key} must be a string")
        name, mime, size = value.get("name"), value.get("mimeType"), value.get("size")
        if not name:
            raise FieldValueError("invalid_file", f"{field.name}: a file needs a name")
        if not value.get("key") and not value.get("url"):
            raise FieldValueError("invalid_file", f"{field.name}: a file needs a key or a url")
        if value.get("url") and not is_file_url(value["url"]):
            raise FieldValueError("invalid_url", f"{field.name}: {value['url']!r} is not allowed")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise FieldValueError("invalid_file", f"{field.name}: size must be a byte count")
        if not accepted(accept_patterns(field, self.implicit_accept), mime, name):
            raise FieldValueError(
                "invalid_file_type", f"{field.name}: {mime or name!r} is not an accepted type"
            )
        if size is not None and field.max_size is not None and size > field.max_size:
            raise FieldValueError(
                "file_too_large", f"{field.name}: {size} bytes is over {field.max_size}"
            )
        return dict(value)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        item = {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "key": {"type": "string"},
                "url": {"type": "string"},
                "size": {"type": "integer", "minimum": 0},
                "mimeType": {"type": "string"},
            },
        }
        return {"type": "array", "items": item} if field.multiple else item
