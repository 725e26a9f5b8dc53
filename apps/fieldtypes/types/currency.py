"""currency: an amount in a DecimalField(precision or 18, scale or 2)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import NumberFamily


@register
class CurrencyType(NumberFamily):
    name = "currency"
    storage = "decimal"
    default_scale = 2
    needs_wire_conversion = True
