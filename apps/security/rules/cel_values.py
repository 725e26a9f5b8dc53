"""CEL value semantics over plain Python data: equality, ordering, arithmetic, membership.

Values are what JSON and the ORM give: None, bool, int, float, Decimal, str, bytes, list,
dict, date, datetime, time, timedelta. Rules (each a deliberate choice):

- Numbers compare across int/float/Decimal; a bool is never a number.
- `==` between different types is false, never an error; a date, datetime or time
  equals the ISO string of the same value (`record.due == "2024-05-01"`).
- Ordering (`< <= > >=`) needs comparable types: numbers, strings, bytes, bools,
  durations, or temporals. ISO strings are coerced to the temporal on the other side; a
  date meets a datetime as midnight UTC; naive datetimes are UTC. Anything else,
  including null, raises CelError.
- `/` on two ints gives an int when exact and a float otherwise (`7 / 2 == 3.5`, like JS);
  `%` truncates toward zero (CEL); division or modulo by zero raises CelError. Decimal
  stays Decimal unless mixed with a float (then float). Ints are not bounded to 64 bits.
- `+` adds numbers, concatenates strings, bytes and lists, and adds a duration to a date
  or datetime (a date plus a duration with hours becomes a UTC datetime).
- `x in y`: list element (CEL equality), map key, or substring for two strings.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from apps.security.rules.exceptions import CelError

UTC = dt.UTC
NUMBER_TYPES = (int, float, Decimal)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float | Decimal):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.timedelta):
        return "duration"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)


def overload_error(op: str, *values: Any) -> CelError:
    types = ", ".join(type_name(value) for value in values)
    return CelError("", f"no such overload: {op}({types})")


# Temporals -----------------------------------------------------------------------


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def date_to_datetime(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)


def parse_date(text: str) -> dt.date:
    """An ISO date, or the UTC date of an ISO datetime."""
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return aware(dt.datetime.fromisoformat(text)).astimezone(UTC).date()
    except ValueError:
        raise CelError("", f"not an ISO date: {text!r}")


def parse_datetime(text: str) -> dt.datetime:
    """An aware datetime from ISO text (`Z` allowed; a bare date is midnight UTC)."""
    try:
        return aware(dt.datetime.fromisoformat(text))
    except ValueError:
        raise CelError("", f"not an ISO timestamp: {text!r}")


def _temporal_pair(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides as comparable temporals, or None when neither side is a temporal."""
    left_t = isinstance(left, dt.date | dt.time)
    right_t = isinstance(right, dt.date | dt.time)
    if not (left_t or right_t):
        return None
    if isinstance(left, str):
        left = _coerce_text(left, right)
    if isinstance(right, str):
        right = _coerce_text(right, left)
    if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
        if isinstance(left, dt.date) and isinstance(right, dt.date):
            left = aware(left) if isinstance(left, dt.datetime) else date_to_datetime(left)
            right = aware(right) if isinstance(right, dt.datetime) else date_to_datetime(right)
            return left, right
        return None
    if type(left) is type(right):
        return left, right
    return None


def _coerce_text(text: str, like: Any) -> Any:
    if isinstance(like, dt.datetime):
        return parse_datetime(text)
    if isinstance(like, dt.date):
        return parse_datetime(text) if len(text) > 10 else parse_date(text)
    if isinstance(like, dt.time):
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            raise CelError("", f"not an ISO time: {text!r}")
    return text


# Equality and ordering -----------------------------------------------------------


def equals(left: Any, right: Any) -> bool:
    """CEL `==`: never raises; different types are unequal (numbers and ISO temporals aside)."""
    if left is None or right is None:
        return left is right
    left_type = type(left)
    if left_type is type(right) and left_type in (str, int, bool):
        return left == right
    if is_number(left) and is_number(right):
        if isinstance(left, float) or isinstance(right, float):
            return float(left) == float(right)
        return left == right
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(equals, left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(equals(left[k], right[k]) for k in left)
    try:
        pair = _temporal_pair(left, right)
    except CelError:
        return False
    if pair is not None:
        return pair[0] == pair[1]
    if isinstance(left, dt.timedelta) and isinstance(right, dt.timedelta):
        return left == right
    return left_type is type(right) and left == right


def comparable(op: str, left: Any, right: Any) -> tuple[Any, Any]:
    """Both operands made comparable for `op`, or CelError."""
    left_type = type(left)
    if left_type is type(right) and left_type in (int, float, str, Decimal):
        return left, right
    if is_number(left) and is_number(right):
        if isinstance(left, float) or isinstance(right, float):
            return float(left), float(right)
        return left, right
    if isinstance(left, bool) and isinstance(right, bool):
        return left, right
    if isinstance(left, bytes) and isinstance(right, bytes):
        return left, right
    if isinstance(left, dt.timedelta) and isinstance(right, dt.timedelta):
        return left, right
    if left is not None and right is not None:
        pair = _temporal_pair(left, right)
        if pair is not None:
            return pair
    raise overload_error(op, left, right)


def less(left: Any, right: Any) -> bool:
    left, right = comparable("<", left, right)
    return left < right


def less_equal(left: Any, right: Any) -> bool:
    left, right = comparable("<=", left, right)
    return left <= right


def greater(left: Any, right: Any) -> bool:
    left, right = comparable(">", left, right)
    return left > right


def greater_equal(left: Any, right: Any) -> bool:
    left, right = comparable(">=", left, right)
    return left >= right


def contained_in(item: Any, container: Any) -> bool:
    """CEL `item in container`."""
    if isinstance(container, list | tuple):
        return any(equals(item, element) for element in container)
    if isinstance(container, Mapping):
        try:
            return item in container
        except TypeError:
            return False
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    raise overload_error("in", item, container)


# Arithmetic ----------------------------------------------------------------------


def _numbers(op: str, left: Any, right: Any) -> tuple[Any, Any]:
    if not (is_number(left) and is_number(right)):
        raise overload_error(op, left, right)
    if isinstance(left, Decimal) and isinstance(right, float):
        return float(left), right
    if isinstance(left, float) and isinstance(right, Decimal):
        return left, float(right)
    return left, right


def add(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        left, right = _numbers("+", left, right)
        return left + right
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return [*left, *right]
    if isinstance(left, bytes) and isinstance(right, bytes):
        return left + right
    if isinstance(left, dt.timedelta) and isinstance(right, dt.date | dt.timedelta):
        left, right = right, left
    if isinstance(left, dt.date | dt.timedelta) and isinstance(right, dt.timedelta):
        return _shift(left, right)
    raise overload_error("+", left, right)


def subtract(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        left, right = _numbers("-", left, right)
        return left - right
    if isinstance(left, dt.date | dt.timedelta) and isinstance(right, dt.timedelta):
        return _shift(left, -right)
    if isinstance(left, dt.date) and isinstance(right, dt.date):
        if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
            left_at = aware(left) if isinstance(left, dt.datetime) else date_to_datetime(left)
            right_at = aware(right) if isinstance(right, dt.datetime) else date_to_datetime(right)
            return left_at - right_at
        return left - right
    raise overload_error("-", left, right)


def _shift(value: dt.date | dt.timedelta, delta: dt.timedelta) -> Any:
    if isinstance(value, dt.timedelta | dt.datetime):
        return value + delta
    if delta.seconds or delta.microseconds:
        return date_to_datetime(value) + delta
    return value + delta


def multiply(left: Any, right: Any) -> Any:
    left, right = _numbers("*", left, right)
    return left * right


def divide(left: Any, right: Any) -> Any:
    left, right = _numbers("/", left, right)
    if right == 0:
        raise CelError("", "division by zero")
    if isinstance(left, int) and isinstance(right, int):
        quotient, remainder = divmod(left, right)
        return quotient if remainder == 0 else left / right
    return left / right


def modulo(left: Any, right: Any) -> Any:
    left, right = _numbers("%", left, right)
    if right == 0:
        raise CelError("", "modulus by zero")
    if isinstance(left, int) and isinstance(right, int):
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return Decimal(left) % Decimal(right)  # Decimal's % truncates like CEL
    return math.fmod(left, right)


def negate(value: Any) -> Any:
    if is_number(value) or isinstance(value, dt.timedelta):
        return -value
    raise overload_error("-", value)


def logical_not(value: Any) -> bool:
    if value is True or value is False:
        return not value
    raise overload_error("!", value)


BINARY_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": equals,
    "!=": lambda left, right: not equals(left, right),
    "<": less,
    "<=": less_equal,
    ">": greater,
    ">=": greater_equal,
    "in": contained_in,
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
}
