"""`{var.path}` templating of node settings, with the date tokens the artifacts use.

A string that is exactly one token (`"{record.owner}"`) becomes the value itself, keeping
its type (a list, a number, null); tokens inside longer text are interpolated as text.
Dicts and lists are rendered recursively. Paths read the run's scope: variables,
`record`, `previous`, `$User` (`{$User.Id}`, `{$User.Email}`) and `$error` inside catch
blocks. Date tokens (UTC): `{today}`, `{tomorrow}`, `{yesterday}`, `{now}`,
`{N_days_ago}`, `{N_days_from_now}`. An unknown path renders as null / empty text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

TOKEN = re.compile(r"\{([A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*)\}")
_DAYS = re.compile(r"^(\d{1,5})_days?_(ago|from_now|later)$")


def _date_token(name: str) -> Any:
    today = timezone.now().date()
    if name == "today":
        return today.isoformat()
    if name == "tomorrow":
        return (today + timedelta(days=1)).isoformat()
    if name == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    if name == "now":
        return timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    match = _DAYS.match(name)
    if match:
        days = int(match.group(1))
        sign = -1 if match.group(2) == "ago" else 1
        return (today + timedelta(days=sign * days)).isoformat()
    return _MISSING


_MISSING = object()


def lookup(scope: Mapping[str, Any], path: str) -> Any:
    """The value at `a.b.c` in scope (null-safe), falling back to the date tokens."""
    parts = path.split(".")
    if parts[0] not in scope and len(parts) == 1:
        value = _date_token(parts[0])
        return None if value is _MISSING else value
    value: Any = scope
    for part in parts:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """`value` with every `{path}` token replaced from `scope` (see the module docstring)."""
    if isinstance(value, str):
        if "{" not in value:
            return value
        whole = TOKEN.fullmatch(value)
        if whole:
            return lookup(scope, whole.group(1))
        return TOKEN.sub(lambda match: _text(lookup(scope, match.group(1))), value)
    if isinstance(value, dict):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    return value
