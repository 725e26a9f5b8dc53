"""The functions and methods CEL rules may call, and the clock they read.

Global functions: `size int uint double string bool dyn today now daysFromNow daysAgo
daysBetween date timestamp duration isBlank matches`. Methods: `size contains startsWith
endsWith matches` (`contains` also works on lists). Arity is checked when a rule is
compiled; an unknown function is a compile-time CelError.

Time: `today()` is the current UTC date, `now()` an aware UTC datetime. Both read
`current_datetime()`, which `frozen_now(moment)` pins for a block (tests, or one
consistent instant per request). `daysFromNow(n)`/`daysAgo(n)` return dates;
`daysBetween(a, b)` is `b - a` in whole calendar days (dates, datetimes in UTC, or ISO
strings). `matches` uses Python `re.search` (partial match, like RE2) with guards
instead of a timeout: pattern at most 256 characters, no backreferences or lookaround,
no nested quantifiers, subject at most 10,000 characters.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from apps.security.rules.cel_values import (
    UTC,
    aware,
    date_to_datetime,
    equals,
    is_number,
    overload_error,
    parse_date,
    parse_datetime,
)
from apps.security.rules.exceptions import CelError

MAX_PATTERN_LENGTH = 256
MAX_SUBJECT_LENGTH = 10_000

_frozen_now: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "rules_frozen_now", default=None
)


def current_datetime() -> dt.datetime:
    """Now as an aware UTC datetime (the frozen instant inside `frozen_now`)."""
    return _frozen_now.get() or dt.datetime.now(UTC)


@contextlib.contextmanager
def frozen_now(moment: dt.datetime) -> Iterator[None]:
    """Pin `now()`/`today()` (and friends) to `moment` inside the block."""
    token = _frozen_now.set(aware(moment).astimezone(UTC))
    try:
        yield
    finally:
        _frozen_now.reset(token)


def size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | Mapping):
        return len(value)
    raise overload_error("size", value)


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise overload_error("int", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise CelError("", f"int() of a non-finite number: {value}")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            raise CelError("", f"int() of a non-integer string: {value!r}")
    if isinstance(value, dt.datetime):
        return int(aware(value).timestamp())
    raise overload_error("int", value)


def to_double(value: Any) -> float:
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise CelError("", f"double() of a non-numeric string: {value!r}")
    raise overload_error("double", value)


def to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.datetime):
        return aware(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds():g}s"
    raise overload_error("string", value)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "t", "f"):
        return value.lower() in ("true", "1", "t")
    raise overload_error("bool", value)


def today() -> dt.date:
    return current_datetime().date()


def now() -> dt.datetime:
    return current_datetime()


def _days(value: Any, name: str) -> int:
    if isinstance(value, bool) or not is_number(value) or value != int(value):
        raise overload_error(name, value)
    return int(value)


def days_from_now(days: Any) -> dt.date:
    return today() + dt.timedelta(days=_days(days, "daysFromNow"))


def days_ago(days: Any) -> dt.date:
    return today() - dt.timedelta(days=_days(days, "daysAgo"))


def to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return aware(value).astimezone(UTC).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_date(value)
    raise overload_error("date", value)


def days_between(start: Any, end: Any) -> int:
    return (to_date(end) - to_date(start)).days


def to_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return aware(value)
    if isinstance(value, dt.date):
        return date_to_datetime(value)
    if isinstance(value, str):
        return parse_datetime(value)
    if is_number(value):
        return dt.datetime.fromtimestamp(float(value), UTC)
    raise overload_error("timestamp", value)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|m|s|ms|us|µs|ns)")
_DURATION_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}


def duration(value: Any) -> dt.timedelta:
    """A Go/CEL duration string (`"1h30m"`, `"-2.5s"`, `"300ms"`) as a timedelta."""
    if isinstance(value, dt.timedelta):
        return value
    if not isinstance(value, str):
        raise overload_error("duration", value)
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    parts = _DURATION_PART.findall(body)
    if not body or "".join(number + unit for number, unit in parts) != body:
        raise CelError("", f"not a duration: {value!r}")
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return dt.timedelta(seconds=sign * seconds)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | Mapping | bytes):
        return len(value) == 0
    return False


_UNSAFE_PATTERN = re.compile(r"\\[1-9]|\(\?P=|\(\?<?[=!]|\\g<")
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+?}](?:[^()\\]|\\.)*\)\s*[*+{]")


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise CelError("", f"regular expression longer than {MAX_PATTERN_LENGTH} characters")
    if _UNSAFE_PATTERN.search(pattern) or _NESTED_QUANTIFIER.search(pattern):
        raise CelError("", f"regular expression not allowed (backtracking risk): {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise CelError("", f"invalid regular expression {pattern!r}: {error}")


def matches(subject: Any, pattern: Any) -> bool:
    if not isinstance(subject, str) or not isinstance(pattern, str):
        raise overload_error("matches", subject, pattern)
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise CelError("", f"matches() on a string longer than {MAX_SUBJECT_LENGTH} characters")
    return _regex(pattern).search(subject) is not None


def contains(target: Any, item: Any) -> bool:
    if isinstance(target, str) and isinstance(item, str):
        return item in target
    if isinstance(target, list | tuple):
        return any(equals(item, element) for element in target)
    raise overload_error("contains", target, item)


def starts_with(target: Any, prefix: Any) -> bool:
    if isinstance(target, str) and isinstance(prefix, str):
        return target.startswith(prefix)
    raise overload_error("startsWith", target, prefix)


def ends_with(target: Any, suffix: Any) -> bool:
    if isinstance(target, str) and isinstance(suffix, str):
        return target.endswith(suffix)
    raise overload_error("endsWith", target, suffix)


# name -> (callable, allowed argument counts)
FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[int, ...]]] = {
    "size": (size, (1,)),
    "int": (to_int, (1,)),
    "uint": (to_int, (1,)),
    "double": (to_double, (1,)),
    "string": (to_string, (1,)),
    "bool": (to_bool, (1,)),
    "dyn": (lambda value: value, (1,)),
    "today": (today, (0,)),
    "now": (now, (0,)),
    "daysFromNow": (days_from_now, (1,)),
    "daysAgo": (days_ago, (1,)),
    "daysBetween": (days_between, (2,)),
    "date": (to_date, (1,)),
    "timestamp": (to_timestamp, (1,)),
    "duration": (duration, (1,)),
    "isBlank": (is_blank, (1,)),
    "matches": (matches, (2,)),
}

# name -> (callable taking the target first, allowed argument counts after the target)
METHODS: dict[str, tuple[Callable[..., Any], tuple[int, ...]]] = {
    "size": (size, (0,)),
    "contains": (contains, (1,)),
    "startsWith": (starts_with, (1,)),
    "endsWith": (ends_with, (1,)),
    "matches": (matches, (1,)),
}

# Functions whose result depends on the clock, not only on their arguments.
CLOCK_FUNCTIONS = frozenset({"today", "now", "daysFromNow", "daysAgo"})
