"""Text family: a nullable TextField; `clean` checks type, length and the type's format.

Length limits live in `clean` only (the column is always TEXT), so changing
`max_length` is a metadata change. Subclasses override `normalize` to check or
rewrite the format (email, url, html sanitising, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, ORDER_OPS, TEXT_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import check_length, expect_str

if TYPE_CHECKING:
    from apps.artifact.models import Field


class TextFamily(FieldType):
    """A string stored as TEXT; `normalize` validates the format, then length is checked."""

    storage = "text"
    operators = EQUALITY_OPS | ORDER_OPS | TEXT_OPS
    text_searchable = True
    # True where "" cannot be a meaningful value (email, url, ...): a blank string is None.
    blank_is_null: ClassVar[bool] = False
    # Extra JSON Schema keys (format, pattern) for openapi_schema.
    schema_extra: ClassVar[dict[str, Any]] = {}

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return models.TextField(
            db_column=field.name, null=True, blank=True, unique=field.unique is True
        )

    def clean(self, field: Field, value: Any) -> str | None:
        if value is None:
            return None
        text = expect_str(field, value)
        if self.blank_is_null and not text.strip():
            return None
        return check_length(field, self.normalize(field, text))

    def normalize(self, field: Field, value: str) -> str:
        """Check (and possibly rewrite) the format of a string value."""
        return value

    def coerce_operand(self, field: Field, value: Any) -> str:
        return expect_str(field, value)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", **self.schema_extra}
        if field.min_length is not None:
            schema["minLength"] = field.min_length
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        return schema


class PatternText(TextFamily):
    """A trimmed string that must match `pattern` (phone, color); blank means no value."""

    blank_is_null = True
    pattern: ClassVar[Any] = None  # compiled regex
    error_code: ClassVar[str] = "invalid_format"
    description: ClassVar[str] = "a valid value"

    def normalize(self, field: Field, value: str) -> str:
        value = value.strip()
        if not self.pattern.fullmatch(value):
            raise FieldValueError(
                self.error_code, f"{field.name}: {value!r} is not {self.description}"
            )
        return value
