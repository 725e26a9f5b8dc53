"""url: an absolute http(s) URL with a host, trimmed; blank means no value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.checks import is_http_url
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class UrlType(TextFamily):
    name = "url"
    blank_is_null = True
    schema_extra = {"format": "uri"}

    def normalize(self, field: Field, value: str) -> str:
        value = value.strip()
        if not is_http_url(value):
            raise FieldValueError(
                "invalid_url", f"{field.name}: {value!r} is not an http(s) URL with a host"
            )
        return value
