"""Boolean family (boolean, toggle): a nullable BooleanField that defaults to False.

`clean` takes only JSON true/false; filter operands also take "true"/"false"/"1"/"0"
because query-string equality parameters arrive as strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, FieldType, FieldValueError, parse_flag
from apps.fieldtypes.checks import invalid_type

if TYPE_CHECKING:
    from apps.artifact.models import Field


class BooleanFamily(FieldType):
    """True/false; a create without a value stores the field's default or False."""

    storage = "boolean"
    operators = EQUALITY_OPS

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return models.BooleanField(db_column=field.name, null=True, blank=True)

    def clean(self, field: Field, value: Any) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            raise invalid_type(field, "true or false", value)
        return value

    def coerce_operand(self, field: Field, value: Any) -> bool:
        try:
            return parse_flag(value)
        except FieldValueError:
            raise invalid_type(field, "true or false", value)

    def default(self, field: Field) -> bool:
        if field.default_value is None:
            return False
        return bool(self.clean(field, field.default_value))

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "boolean"}
