"""checkboxes: a JSON array of the ticked option values, in the options' order."""

from apps.fieldtypes.base import LIST_OPS
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class CheckboxesType(ChoiceFamily):
    name = "checkboxes"
    storage = "json_list"
    operators = LIST_OPS
    always_list = True
    sortable = False
