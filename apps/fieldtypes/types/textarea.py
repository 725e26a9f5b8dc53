"""textarea: a multi-line string, searchable; same storage as text."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class TextareaType(TextFamily):
    name = "textarea"
