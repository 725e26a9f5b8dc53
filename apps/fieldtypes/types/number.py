"""number: a float column, or a DecimalField(precision or 18, scale) when `scale` is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import NumberFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class NumberType(NumberFamily):
    name = "number"
    # A number with `scale` is stored as a Decimal and needs converting on read.
    needs_wire_conversion = True

    def storage_for(self, field: Field) -> str:
        return "decimal" if field.scale is not None else "float"
