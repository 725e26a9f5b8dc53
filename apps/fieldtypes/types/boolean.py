"""boolean: a checkbox value, true or false (False when a create leaves it out)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._boolean import BooleanFamily


@register
class BooleanType(BooleanFamily):
    name = "boolean"
