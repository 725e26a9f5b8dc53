"""select: one option value (TEXT), or with `multiple` a JSON array of option values."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class SelectType(ChoiceFamily):
    name = "select"
