"""text: a single-line string, searchable, TEXT column (length checked in clean)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class TextType(TextFamily):
    name = "text"
