"""Text family: type and length checks, formats, html sanitising, filter operands."""

from __future__ import annotations

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type
from apps.fieldtypes.types._html import sanitize_html

from .conftest import make_field

TEXT_TYPES = [
    "text", "textarea", "markdown", "html", "richtext", "code", "phone", "email", "url",
    "color", "qrcode", "signature",
]  # fmt: skip


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def error_code(type_name, value, **attrs) -> str:
    with pytest.raises(FieldValueError) as error:
        clean(type_name, value, **attrs)
    return error.value.code


@pytest.mark.parametrize("type_name", TEXT_TYPES)
@pytest.mark.parametrize("value", [5, 1.5, True, ["a"], {"a": 1}])
def test_non_strings_are_refused(type_name, value):
    assert error_code(type_name, value) == "invalid_type"


@pytest.mark.parametrize("type_name", ["text", "textarea", "markdown", "code", "qrcode"])
def test_length_limits(type_name):
    assert clean(type_name, "abc", min_length=3, max_length=3) == "abc"
    assert error_code(type_name, "ab", min_length=3) == "too_short"
    assert error_code(type_name, "abcd", max_length=3) == "too_long"


def test_plain_text_is_kept_verbatim_and_blank_stays_blank():
    assert clean("text", "  spaced  ") == "  spaced  "
    assert clean("text", "") == ""


@pytest.mark.parametrize("type_name", ["email", "url", "phone", "color"])
def test_blank_formatted_values_mean_no_value(type_name):
    assert clean(type_name, "") is None
    assert clean(type_name, "   ") is None


@pytest.mark.parametrize("value", ["ann", "ann@", "@example.com", "ann@example", "a b@example.com"])
def test_invalid_email(value):
    assert error_code("email", value) == "invalid_email"


def test_email_length_is_checked_after_trimming():
    assert clean("email", " a@example.com ", max_length=13) == "a@example.com"
    assert error_code("email", "ann@example.com", max_length=10) == "too_long"


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "https://",
        "http:///path",
        "http://exa mple.com",
        "http://example.com:99999/",
    ],
)
def test_invalid_url(value):
    assert error_code("url", value) == "invalid_url"


@pytest.mark.parametrize(
    "value", ["http://localhost:8000/x", "HTTPS://Example.com", "https://a.b/c#d"]
)
def test_valid_url(value):
    assert clean("url", value) == value


@pytest.mark.parametrize("value", ["12", "phone me", "+1 555 0101 ext 3", "((((()))))", "1" * 33])
def test_invalid_phone(value):
    assert error_code("phone", value) == "invalid_phone"


@pytest.mark.parametrize("value", ["555-0101", "+44 20 7946 0958", "(030) 1234.567"])
def test_valid_phone(value):
    assert clean("phone", value) == value


@pytest.mark.parametrize("value", ["#abc", "#AABBCC", "#aabbcc80"])
def test_valid_color(value):
    assert clean("color", f" {value} ") == value


@pytest.mark.parametrize("value", ["red", "#ab", "#abcd", "#GGGGGG", "aabbcc", "#aabbccd"])
def test_invalid_color(value):
    assert error_code("color", value) == "invalid_color"


@pytest.mark.parametrize("type_name", ["html", "richtext"])
def test_html_sanitising_removes_scripts_handlers_and_javascript_urls(type_name):
    dirty = (
        '<p onclick="steal()">Hi <script>alert(1)</script><b>there</b></p>'
        '<img src="x.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)">x</a><style>p{}</style>'
    )
    safe = clean(type_name, dirty)
    assert "<script" not in safe and "alert(1)" not in safe
    assert "onerror" not in safe and "onclick" not in safe
    assert "javascript:" not in safe and "<style" not in safe
    assert safe == '<p>Hi <b>there</b></p><img src="x.png"><a rel="noopener noreferrer">x</a>'


def test_html_keeps_safe_markup_and_links():
    value = '<h2>T</h2><ul><li><a href="https://example.com">x</a></li></ul>'
    assert sanitize_html(value) == (
        '<h2>T</h2><ul><li><a href="https://example.com" rel="noopener noreferrer">x</a></li></ul>'
    )


def test_html_length_is_checked_on_the_sanitised_value():
    assert clean("html", "<script>xxxxxxxx</script>ok", max_length=2) == "ok"


def test_markdown_is_not_sanitised():
    assert clean("markdown", "<script>x</script>") == "<script>x</script>"


def test_filter_operands():
    field_type, field = get_type("email"), make_field("email")
    assert field_type.filter_operand(field, "$eq", "not-an-email") == "not-an-email"
    assert field_type.filter_operand(field, "$contains", "@example") == "@example"
    assert field_type.filter_operand(field, "$in", ["a", "b"]) == ["a", "b"]
    assert field_type.filter_operand(field, "$in", "a") == ["a"]
    assert field_type.filter_operand(field, "$between", ["a", "m"]) == ["a", "m"]
    assert field_type.filter_operand(field, "$null", "true") is True
    assert field_type.filter_operand(field, "$eq", None) is None


@pytest.mark.parametrize(
    ("op", "value", "code"),
    [
        ("$eq", 5, "invalid_type"),
        ("$contains", 5, "invalid_operand"),
        ("$between", ["a"], "invalid_operand"),
        ("$null", "maybe", "invalid_operand"),
        ("$near", "x", "invalid_operator"),
    ],
)
def test_bad_filter_operands(op, value, code):
    with pytest.raises(FieldValueError) as error:
        get_type("text").filter_operand(make_field("text"), op, value)
    assert error.value.code == code


def test_default_is_cleaned():
    assert get_type("text").default(make_field("text", default_value="x")) == "x"
    assert get_type("color").default(make_field("color", default_value="#7C3AED")) == "#7C3AED"
    assert get_type("text").default(make_field("text")) is None
    with pytest.raises(FieldValueError):
        get_type("email").default(make_field("email", default_value="nope"))
