"""color: a hex colour `#RGB`, `#RRGGBB` or `#RRGGBBAA`, stored as written; not searchable."""

import re

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import PatternText

COLOR_PATTERN = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


@register
class ColorType(PatternText):
    name = "color"
    text_searchable = False
    pattern = COLOR_PATTERN
    error_code = "invalid_color"
    description = "a hex colour (#RGB, #RRGGBB or #RRGGBBAA)"
    schema_extra = {"pattern": r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"}
