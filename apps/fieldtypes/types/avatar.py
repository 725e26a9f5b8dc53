"""avatar: a picture of a person or thing; an image file descriptor."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._media import MediaFamily


@register
class AvatarType(MediaFamily):
    name = "avatar"
    implicit_accept = ("image/*",)
