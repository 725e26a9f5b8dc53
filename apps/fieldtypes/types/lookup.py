"""lookup: a reference to a record of `field.reference`; deleting the target sets it null."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._relation import RelationFamily


@register
class LookupType(RelationFamily):
    name = "lookup"
