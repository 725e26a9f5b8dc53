"""Content types of uploads: the declared type checked against the first bytes."""

from __future__ import annotations

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.sniff import content_type, normalize, sniff

PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04\x14\0\x06\0"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _exe() -> bytes:
    stub = bytearray(b"MZ" + b"\0" * 126)
    stub[60:64] = (128).to_bytes(4, "little")
    return bytes(stub) + b"PE\0\0" + b"\0" * 20


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\0", "image/gif"),
        (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\0\0\0WAVEfmt ", "audio/wav"),
        (PDF, "application/pdf"),
        (ZIP, "application/zip"),
        (b"\0\0\0\x20ftypisom\0\0\x02\0", "video/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
        (b"OggS\0\x02", "audio/ogg"),
        (b"fLaC\0\0\0\x22", "audio/flac"),
        (b"ID3\x04\0\0\0\0\0\0", "audio/mpeg"),
        (_exe(), "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">', "image/svg+xml"),
        (b"MZ Corp quarterly notes", None),
        (b"name,amount\nacme,10\n", None),
        (b"", None),
    ],
)
def test_sniff(head, expected):
    assert sniff(head) == expected


def test_normalize_strips_parameters_and_folds_aliases():
    assert normalize("Image/JPG; charset=binary") == "image/jpeg"
    assert normalize(None) == ""


@pytest.mark.parametrize(
    ("declared", "name", "head", "expected"),
    [
        ("image/png", "a.png", PNG, "image/png"),
        ("application/octet-stream", "a.pdf", PDF, "application/pdf"),  # the name's type
        ("", "", PNG, "image/png"),  # nothing declared: the bytes say
        ("", "blob", b"\0\1\2", "application/octet-stream"),
        (DOCX, "letter.docx", ZIP, DOCX),  # a zip-based type keeps its own name
        ("text/csv", "a.csv", b"a,b\n1,2\n", "text/csv"),
        # Browsers on Windows declare CSV files as Excel: the name's type agrees with the bytes.
        ("application/vnd.ms-excel", "a.csv", b"a,b\n1,2\n", "text/csv"),
    ],
)
def test_content_type(declared, name, head, expected):
    assert content_type(declared, name, head) == expected


@pytest.mark.parametrize(
    ("declared", "name", "head"),
    [
        ("image/png", "evil.png", b"<html><script>alert(1)</script>"),
        ("application/pdf", "x.pdf", PNG),
        ("", "x.pdf", PNG),  # the extension alone is not trusted
        ("text/plain", "x.txt", PNG),
        (DOCX, "letter.docx", b"just text"),
        ("image/jpeg", "x.jpg", _exe()),
        ("text/plain", "notes.txt", b"<!doctype html><p>hi"),
    ],
)
def test_content_that_contradicts_the_declared_type_is_refused(declared, name, head):
    with pytest.raises(FieldValueError) as error:
        content_type(declared, name, head)
    assert error.value.code == "invalid_file_type"
