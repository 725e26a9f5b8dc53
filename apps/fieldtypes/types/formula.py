"""formula: a read-only value computed from `field.expression` (not stored)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._computed import ComputedFamily


@register
class FormulaType(ComputedFamily):
    name = "formula"
