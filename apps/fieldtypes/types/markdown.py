"""markdown: Markdown source stored verbatim (clients render and sanitise it)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class MarkdownType(TextFamily):
    name = "markdown"
