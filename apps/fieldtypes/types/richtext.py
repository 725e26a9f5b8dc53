"""richtext: rich-editor HTML, sanitised on write exactly like html."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._html import HtmlFamily


@register
class RichtextType(HtmlFamily):
    name = "richtext"
