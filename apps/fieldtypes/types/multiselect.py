"""multiselect: a JSON array of distinct option values, in the options' order."""

from apps.fieldtypes.base import LIST_OPS
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._choice import ChoiceFamily


@register
class MultiselectType(ChoiceFamily):
    name = "multiselect"
    storage = "json_list"
    operators = LIST_OPS
    always_list = True
    sortable = False
