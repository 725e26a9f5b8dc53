"""repeater: an embedded array of rows, each a JSON object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily, expect_array

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class RepeaterType(StructuredFamily):
    name = "repeater"
    storage = "json_rows"

    def check_shape(self, field: Field, value: Any) -> list[dict[str, Any]]:
        for index, row in enumerate(expect_array(field, value)):
            if not isinstance(row, dict):
                raise FieldValueError(
                    "invalid_row", f"{field.name}[{index}]: each row must be an object"
                )
        return value

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "object"}}
