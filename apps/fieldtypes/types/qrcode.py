"""qrcode: the text a QR code or barcode encodes; not part of search."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily


@register
class QrcodeType(TextFamily):
    name = "qrcode"
    text_searchable = False
