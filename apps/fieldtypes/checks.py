"""Small value checks shared by the field type families; each raises FieldValueError."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from apps.fieldtypes.base import FieldValueError

if TYPE_CHECKING:
    from apps.artifact.models import Field

JSON_SCALARS = (str, int, float, bool, type(None))


def kind_of(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def invalid_type(field: Field, expected: str, value: Any) -> FieldValueError:
    return FieldValueError(
        "invalid_type", f"{field.name}: expected {expected}, got {kind_of(value)}"
    )


def expect_str(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_type(field, "a string", value)
    return value


def expect_number(field: Field, value: Any) -> int | float | Decimal:
    """An int, float or Decimal that is finite; booleans and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise invalid_type(field, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldValueError("invalid_number", f"{field.name}: {value} is not a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise FieldValueError("invalid_number", f"{field.name}: {value} is not a finite number")
    return value


def check_length(field: Field, value: str, default_min: int | None = None) -> str:
    """Enforce `min_length` / `max_length` (in characters)."""
    minimum = field.min_length if field.min_length is not None else default_min
    if minimum is not None and len(value) < minimum:
        raise FieldValueError(
            "too_short", f"{field.name}: at least {minimum} characters, got {len(value)}"
        )
    if field.max_length is not None and len(value) > field.max_length:
        raise FieldValueError(
            "too_long", f"{field.name}: at most {field.max_length} characters, got {len(value)}"
        )
    return value


def ensure_json(field: Field, value: Any, path: str = "") -> Any:
    """Check that a value is plain JSON (str keys, finite numbers); returns it unchanged."""
    where = f"{field.name}{path}"
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldValueError("invalid_json", f"{where}: {value} is not valid JSON")
    if isinstance(value, JSON_SCALARS):
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            ensure_json(field, item, f"{path}[{index}]")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FieldValueError("invalid_json", f"{where}: object keys must be strings")
            ensure_json(field, item, f"{path}.{key}")
        return value
    raise FieldValueError("invalid_json", f"{where}: {kind_of(value)} is not a JSON value")


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number clients expect: int when integral, else float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


def is_http_url(value: str) -> bool:
    """True for http:// or https:// URLs with a host, a valid port and no whitespace."""
    if _UNSAFE_URL_CHARS.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
