"""summary: a read-only roll-up (`summary_operations`: count/sum/min/max/avg of children)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._computed import ComputedFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class SummaryType(ComputedFamily):
    name = "summary"

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        operations = field.summary_operations
        if operations is not None and operations.function == "count":
            return {"type": "integer", "readOnly": True}
        return {"type": "number", "readOnly": True}
