"""percent: a float where 50 means 50 %; min/max only when the field sets them."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import NumberFamily


@register
class PercentType(NumberFamily):
    name = "percent"
