"""Temporal family: ISO-8601 strings in, date/datetime/time columns, ISO strings out.

Subclasses give the Django field, the accepted string shape (`pattern`), how to
parse and how to format. `coerce_operand` parses the same shapes as `clean`, so a
query-string filter `?due=2024-05-01` works.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, ORDER_OPS, DynamicDefault, FieldType, FieldValueError
from apps.fieldtypes.checks import kind_of

if TYPE_CHECKING:
    from apps.artifact.models import Field


class TemporalFamily(FieldType):
    """A date, datetime or time column with ISO-8601 wire values."""

    operators = EQUALITY_OPS | ORDER_OPS
    needs_wire_conversion = True
    django_field: ClassVar[type[models.Field]] = models.DateField
    pattern: ClassVar[re.Pattern[str]] = re.compile("")
    error_code: ClassVar[str] = "invalid_date"
    expected: ClassVar[str] = "an ISO-8601 date"
    json_format: ClassVar[str] = "date"
    # defaultValue tokens resolved by the write path ("now", "today").
    dynamic_defaults: ClassVar[dict[str, DynamicDefault]] = {}

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return self.django_field(
            db_column=field.name, null=True, blank=True, unique=field.unique is True
        )

    def clean(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if self.pattern.fullmatch(text):
                try:
                    return self.parse(text)
                except ValueError:
                    pass
            raise FieldValueError(
                self.error_code, f"{field.name}: {value!r} is not {self.expected}"
            )
        native = self.from_python(value)
        if native is None:
            raise FieldValueError(
                self.error_code, f"{field.name}: expected {self.expected}, got {kind_of(value)}"
            )
        return native

    def parse(self, text: str) -> Any:
        """The Python value of a string matching `pattern`; ValueError when impossible."""
        raise NotImplementedError

    def from_python(self, value: Any) -> Any:
        """A server-side Python value (date, datetime, time) as stored, or None if refused."""
        return None

    def coerce_operand(self, field: Field, value: Any) -> Any:
        cleaned = self.clean(field, value)
        if cleaned is None:
            raise FieldValueError(self.error_code, f"{field.name}: empty operand")
        return cleaned

    def default(self, field: Field) -> Any:
        token = field.default_value
        if isinstance(token, str) and token.strip().lower() in self.dynamic_defaults:
            return self.dynamic_defaults[token.strip().lower()]
        return super().default(field)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string", "format": self.json_format}
