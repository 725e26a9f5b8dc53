"""master_detail: a reference to the master record; deleting the master deletes the detail."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._relation import RelationFamily


@register
class MasterDetailType(RelationFamily):
    name = "master_detail"
    default_delete_behavior = "cascade"
