"""signature: a drawn signature as text (usually an image data URL); not part of search."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class SignatureType(TextFamily):
    name = "signature"
    text_searchable = False
