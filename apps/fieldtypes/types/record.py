"""record: a name-keyed map (JSON object from string keys to any JSON values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily, expect_object

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class RecordType(StructuredFamily):
    name = "record"
    storage = "json_object"

    def check_shape(self, field: Field, value: Any) -> dict[str, Any]:
        return expect_object(field, value)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": True}
