"""toggle: a switch value, stored and validated exactly like boolean."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._boolean import BooleanFamily


@register
class ToggleType(BooleanFamily):
    name = "toggle"
