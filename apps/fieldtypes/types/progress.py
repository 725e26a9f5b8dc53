"""progress: a float from 0 to 100 (or the field's min/max)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import NumberFamily


@register
class ProgressType(NumberFamily):
    name = "progress"
    default_min = 0
    default_max = 100
