"""radio: exactly one option value (TEXT); `multiple` is ignored."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class RadioType(ChoiceFamily):
    name = "radio"
    honours_multiple = False
