"""video: a file descriptor whose MIME type, when given, is `video/*` (or `accept`)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._media import MediaFamily


@register
class VideoType(MediaFamily):
    name = "video"
    implicit_accept = ("video/*",)
