"""audio: a file descriptor whose MIME type, when given, is `audio/*` (or `accept`)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._media import MediaFamily


@register
class AudioType(MediaFamily):
    name = "audio"
    implicit_accept = ("audio/*",)
