"""checkboxes: a JSON array of the ticked option values, in the options' order."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class CheckboxesType(ChoiceFamily):
    name = "checkboxes"
    always_list = True
    sortable = False
