"""code: source text for a code editor (`field.language` is a UI hint), stored verbatim."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class CodeType(TextFamily):
    name = "code"
