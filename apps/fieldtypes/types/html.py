"""html: HTML sanitised on write (no script/style, on* handlers or javascript: URLs)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._html import HtmlFamily


@register
class HtmlType(HtmlFamily):
    name = "html"
