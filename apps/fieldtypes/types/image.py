"""image: a file descriptor whose MIME type, when given, is `image/*` (or `accept`)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._media import MediaFamily


@register
class ImageType(MediaFamily):
    name = "image"
    implicit_accept = ("image/*",)
