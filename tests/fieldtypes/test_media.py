"""image, file, avatar, video, audio: file descriptors, accept patterns, size limits."""

from __future__ import annotations

import pytest

from apps.fieldtypes.base import PRESENCE_OPS, FieldValueError
from apps.fieldtypes.registry import get_type

from .conftest import make_field

MEDIA_TYPES = ["image", "file", "avatar", "video", "audio"]
PDF = {
    "name": "report.pdf",
    "key": "uploads/report.pdf",
    "size": 2048,
    "mimeType": "application/pdf",
}


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def error_code(type_name, value, **attrs) -> str:
    with pytest.raises(FieldValueError) as error:
        clean(type_name, value, **attrs)
    return error.value.code


@pytest.mark.parametrize("type_name", MEDIA_TYPES)
def test_minimal_descriptor_and_extra_scalar_keys(type_name):
    value = {"name": "x", "key": "k", "width": 10, "uploadedAt": "2024-05-01"}
    assert clean(type_name, value) == value
    assert clean(type_name, {"name": "x", "url": "/media/x"}) == {"name": "x", "url": "/media/x"}


@pytest.mark.parametrize("type_name", MEDIA_TYPES)
@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("https://example.com/a.png", "invalid_type"),
        (["not", "multiple"], "invalid_type"),
        ({"key": "k"}, "invalid_file"),
        ({"name": "", "key": "k"}, "invalid_file"),
        ({"name": "x"}, "invalid_file"),
        ({"name": "x", "key": ""}, "invalid_file"),
        ({"name": 5, "key": "k"}, "invalid_file"),
        ({"name": "x", "key": 5}, "invalid_file"),
        ({"name": "x", "key": "k", "size": -1}, "invalid_file"),
        ({"name": "x", "key": "k", "size": True}, "invalid_file"),
        ({"name": "x", "key": "k", "size": 1.5}, "invalid_file"),
        ({"name": "x", "key": "k", "meta": {"a": 1}}, "invalid_file"),
        ({"name": "x", "url": "javascript:alert(1)"}, "invalid_url"),
        ({"name": "x", "url": "//evil.example/x"}, "invalid_url"),
        ({"name": "x", "url": "data:text/html,<script>"}, "invalid_url"),
    ],
)
def test_invalid_descriptors(type_name, value, code):
    assert error_code(type_name, value) == code


@pytest.mark.parametrize(
    ("type_name", "mime"),
    [
        ("image", "application/pdf"),
        ("avatar", "video/mp4"),
        ("video", "image/png"),
        ("audio", "video/mp4"),
    ],
)
def test_types_imply_their_mime_family(type_name, mime):
    assert error_code(type_name, {"name": "x", "key": "k", "mimeType": mime}) == "invalid_file_type"


def test_file_accepts_anything_by_default():
    assert clean("file", PDF) == PDF
    assert clean("file", {**PDF, "mimeType": "application/x-msdownload"})


@pytest.mark.parametrize(
    ("accept", "value", "ok"),
    [
        (["application/pdf", "image/*"], PDF, True),
        (["application/pdf", "image/*"], {**PDF, "mimeType": "image/webp"}, True),
        (["application/pdf", "image/*"], {**PDF, "mimeType": "text/plain"}, False),
        (["IMAGE/*"], {**PDF, "mimeType": "Image/PNG"}, True),
        ([".pdf", ".docx"], {"name": "a.PDF", "key": "k"}, True),
        ([".pdf"], {"name": "a.doc", "key": "k"}, False),
        ("application/pdf, .pdf", {"name": "a.pdf", "key": "k"}, True),
        ("application/pdf,.pdf", {"name": "a.txt", "key": "k", "mimeType": "text/plain"}, False),
        (["image/*"], {"name": "a.bin", "key": "k"}, True),  # nothing to check against
        (["*/*"], {**PDF, "mimeType": "x/y"}, True),
    ],
)  # fmt: skip
def test_accept(accept, value, ok):
    if ok:
        assert clean("file", value, accept=accept) == value
    else:
        assert error_code("file", value, accept=accept) == "invalid_file_type"


def test_field_accept_overrides_the_implicit_family():
    value = {"name": "scan.pdf", "key": "k", "mimeType": "application/pdf"}
    assert clean("image", value, accept=["application/pdf"]) == value


def test_max_size():
    assert clean("file", PDF, max_size=2048) == PDF
    assert error_code("file", PDF, max_size=2047) == "file_too_large"
    assert clean("file", {"name": "x", "key": "k"}, max_size=1) == {"name": "x", "key": "k"}


def test_multiple_is_a_list_of_descriptors():
    second = {"name": "b.png", "key": "k2"}
    assert clean("image", [second, second], multiple=True) == [second]
    assert clean("file", [], multiple=True) == []
    assert error_code("file", PDF, multiple=True) == "invalid_type"
    assert error_code("file", [PDF, {"name": "x"}], multiple=True) == "invalid_file"
    assert get_type("file").storage_for(make_field("file", multiple=True)) == "json_files"


@pytest.mark.parametrize("type_name", MEDIA_TYPES)
def test_operators_are_presence_only(type_name):
    field_type = get_type(type_name)
    assert field_type.operators == PRESENCE_OPS and not field_type.sortable
    assert field_type.filter_operand(make_field(type_name), "$null", "false") is False
    with pytest.raises(FieldValueError) as error:
        field_type.filter_operand(make_field(type_name), "$eq", PDF)
    assert error.value.code == "invalid_operator"
