"""phone: 5-32 characters of digits, spaces and + - ( ) . with at least 3 digits."""

import re

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import PatternText

PHONE_PATTERN = re.compile(r"(?=(?:\D*\d){3})[0-9+\-(). ]{5,32}")


@register
class PhoneType(PatternText):
    name = "phone"
    pattern = PHONE_PATTERN
    error_code = "invalid_phone"
    description = "a phone number"
    schema_extra = {"pattern": r"^[0-9+\-(). ]{5,32}$"}
