"""json: any JSON value (object, array, string, number, boolean); `$eq` compares whole values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import PRESENCE_OPS
from apps.fieldtypes.checks import ensure_json
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class JsonType(StructuredFamily):
    name = "json"
    operators = PRESENCE_OPS | {"$eq"}

    def coerce_operand(self, field: Field, value: Any) -> Any:
        return ensure_json(field, value)
