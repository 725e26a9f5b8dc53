"""The content type of an uploaded file: what the client declared, checked against its bytes.

`content_type(declared, name, head)` takes the declared type (a part's or a request's
Content-Type), else the one its name implies, and compares it with what the first bytes
say (`sniff`). A declared type with a known signature must match it (a `.png` that is an
HTML page, a PDF that is a ZIP, an executable under any other name is refused), and
content whose signature is known may only be declared as a type of that family. Types
without a signature (CSV, plain text, SVG declared as such) are taken as declared;
markup (HTML, SVG) is recognised so that it cannot pass as anything else.
"""

from __future__ import annotations

import mimetypes

from apps.fieldtypes.base import FieldValueError

HEAD_BYTES = 1024
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
# Spellings of one type, stored as the canonical one.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "application/x-zip-compressed": "application/zip",
    "application/x-gzip": "application/gzip",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "image/vnd.microsoft.icon": "image/x-icon",
}
# What a sniffed signature may be declared as (exact types, or prefixes ending in "*").
FAMILIES: dict[str, tuple[str, ...]] = {
    "image/png": ("image/png", "image/apng"),
    "image/jpeg": ("image/jpeg",),
    "image/gif": ("image/gif",),
    "image/webp": ("image/webp",),
    "image/bmp": ("image/bmp", "image/x-bmp", "image/x-ms-bmp"),
    "image/tiff": ("image/tiff",),
    "image/x-icon": ("image/x-icon",),
    "application/pdf": ("application/pdf",),
    "application/zip": (
        "application/zip",
        "application/vnd.openxmlformats-officedocument.*",
        "application/vnd.oasis.opendocument.*",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.android.package-archive",
    ),
    "application/x-ole-storage": (
        "application/x-ole-storage",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.ms-outlook",
        "application/x-msi",
    ),
    "application/gzip": ("application/gzip",),
    "application/x-7z-compressed": ("application/x-7z-compressed",),
    "application/vnd.rar": ("application/vnd.rar", "application/x-rar-compressed"),
    # ISO base media (MP4, QuickTime, M4A, 3GP, HEIC, AVIF): the `ftyp` box.
    "video/mp4": (
        "video/mp4",
        "video/quicktime",
        "video/x-m4v",
        "video/3gpp",
        "video/3gpp2",
        "audio/mp4",
        "audio/x-m4a",
        "audio/m4a",
        "audio/aac",
        "audio/3gpp",
        "image/heic",
        "image/heif",
        "image/avif",
    ),
    "video/webm": ("video/webm", "audio/webm", "video/x-matroska", "audio/x-matroska"),
    "video/x-msvideo": ("video/x-msvideo",),
    "audio/ogg": ("audio/ogg", "video/ogg", "application/ogg", "audio/opus", "audio/vorbis"),
    "audio/flac": ("audio/flac",),
    "audio/wav": ("audio/wav",),
    "audio/mpeg": ("audio/mpeg", "audio/aac", "audio/x-aac"),
    "application/x-msdownload": (
        "application/x-msdownload",
        "application/vnd.microsoft.portable-executable",
        "application/x-dosexec",
    ),
    "application/x-executable": (
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
    ),
    "text/html": ("text/html", "application/xhtml+xml"),
    "image/svg+xml": ("image/svg+xml", "application/xml", "text/xml"),
}
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")


def normalize(content_type: str | None) -> str:
    """`Image/JPG; charset=x` -> `image/jpeg`."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(mime, mime)


def guess(name: str | None) -> str:
    """The type a file name implies ("" when it implies none)."""
    if not name:
        return ""
    return normalize(mimetypes.guess_type(name, strict=False)[0])


def sniff(head: bytes) -> str | None:
    """The type the first bytes of a file say, or None when they say nothing known."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0":
        return "image/bmp"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "image/tiff"
    if head[:4] == b"\0\0\1\0":
        return "image/x-icon"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] in (b"PK\3\4", b"PK\5\6"):
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "application/x-7z-compressed"
    if head.startswith(b"Rar!\x1a\x07"):
        return "application/vnd.rar"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"MZ") and _pe_header(head):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    return _markup(head)


def _pe_header(head: bytes) -> bool:
    """A DOS stub pointing at a PE header (so a text starting "MZ" is not an executable)."""
    offset = int.from_bytes(head[60:64], "little") if len(head) >= 64 else 0
    return 64 <= offset <= len(head) - 4 and head[offset : offset + 4] == b"PE\0\0"


def _markup(head: bytes) -> str | None:
    text = head[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_HTML_STARTS):
        return "text/html"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    return None


def _in_family(family: tuple[str, ...], mime: str) -> bool:
    return any(mime.startswith(p[:-1]) if p.endswith("*") else mime == p for p in family)


def _consistent(mime: str, sniffed: str | None) -> bool:
    """A type with a known signature needs its bytes to carry it; a type without one
    needs bytes that carry none."""
    expected = {signature for signature, family in FAMILIES.items() if _in_family(family, mime)}
    return sniffed in expected if expected else sniffed is None


def content_type(declared: str | None, name: str | None, head: bytes) -> str:
    """The type to store for a file: the declared one, else the one its name implies,
    whichever its bytes agree with (see the module docstring); FieldValueError
    ("invalid_file_type") when they agree with neither."""
    sniffed = sniff(head)
    candidates = [m for m in (normalize(declared), guess(name)) if m not in GENERIC]
    if not candidates:
        return sniffed or "application/octet-stream"
    for mime in candidates:
        if _consistent(mime, sniffed):
            return mime
    what = f"is {sniffed}" if sniffed else f"is not {candidates[0]}"
    raise FieldValueError(
        "invalid_file_type", f"declared as {candidates[0]}, but its content {what}"
    )
