"""file: an uploaded file descriptor (any type unless `accept` says otherwise)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._media import MediaFamily


@register
class FileType(MediaFamily):
    name = "file"
