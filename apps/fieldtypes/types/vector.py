"""vector: an embedding, a JSON array of finite numbers, at most `dimensions` items when set.

Shorter vectors are accepted because the protocol's own examples seed them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.checks import expect_number
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily, expect_array

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class VectorType(StructuredFamily):
    name = "vector"
    storage = "vector"

    def check_shape(self, field: Field, value: Any) -> list[float]:
        numbers = [float(expect_number(field, item)) for item in expect_array(field, value)]
        if field.dimensions is not None and len(numbers) > field.dimensions:
            raise FieldValueError(
                "invalid_dimensions",
                f"{field.name}: expected at most {field.dimensions} numbers, got {len(numbers)}",
            )
        return numbers

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"type": "number"}}
        if field.dimensions is not None:
            schema["maxItems"] = field.dimensions
        return schema
