"""multiselect: a JSON array of distinct option values, in the options' order."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class MultiselectType(ChoiceFamily):
    name = "multiselect"
    always_list = True
    sortable = False
