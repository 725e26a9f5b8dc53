"""tree: a reference to the parent record (usually the same object); parent delete sets null."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._relation import RelationFamily


@register
class TreeType(RelationFamily):
    name = "tree"
