"""Issues found in an artifact, each located by its JSON path (`objects[2].fields.amount.type`).

A path starts at the artifact root without a leading dot, uses `[i]` for list
indices and `.key` for object keys (`["key"]` when the key is not a plain
identifier, e.g. `fields["crm_account.name"]`); `$` is the whole document.
`issues_from_validation_error` turns pydantic's errors into such issues with
plain-language messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

ROOT = "$"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN = 60


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem (or warning) at a JSON path of the artifact."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def json_path(segments: Iterable[str | int]) -> str:
    """The path string of a sequence of keys and indices; `$` for the empty sequence."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.fullmatch(segment):
            parts.append(f".{segment}" if parts else segment)
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts) or ROOT


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: `a string ('abc')`, `a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def dedupe(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in order with later ones at an already reported path merged away."""
    seen: set[str] = set()
    kept: list[Issue] = []
    for issue in issues:
        if issue.path not in seen:
            seen.add(issue.path)
            kept.append(issue)
    return kept


def issues_from_validation_error(error: ValidationError, raw: Any) -> list[Issue]:
    """One issue per distinct path of a pydantic ValidationError raised on `raw`.

    Union branches that fail at the same place become one issue whose message
    lists the alternatives ("must be a string, or must be a list").
    """
    messages: dict[str, list[str]] = {}
    for detail in error.errors(include_url=False):
        path = json_path(_input_path(detail, raw))
        message = _message(detail)
        bucket = messages.setdefault(path, [])
        if message not in bucket:
            bucket.append(message)
    return [Issue(path, ", or ".join(found)) for path, found in messages.items()]


def _input_path(detail: ErrorDetails, raw: Any) -> list[str | int]:
    """The error location as keys and indices of the input document.

    Pydantic's `loc` also names union branches (`str`, `list[str]`) and dict
    keys (`[key]`); walking the input alongside drops what is not in it. A
    custom error may name a key below its location in `ctx["at"]`.
    """
    loc: Sequence[str | int] = detail["loc"]
    node: Any = raw
    path: list[str | int] = []
    last = len(loc) - 1
    for position, segment in enumerate(loc):
        if isinstance(segment, int):
            path.append(segment)
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
        elif segment == "[key]":
            continue
        elif isinstance(node, dict) and segment in node:
            path.append(segment)
            node = node[segment]
        elif isinstance(node, dict) and position == last and detail["type"] == "missing":
            path.append(segment)
        # anything else names a union branch, not a place in the input
    at = (detail.get("ctx") or {}).get("at")
    if isinstance(at, str):
        path.append(at)
    return path


_KIND = {
    "string_type": "a string",
    "str_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    given = detail.get("input")
    if kind == "missing":
        return "is required"
    if kind in _KIND:
        return f"must be {_KIND[kind]}, got {describe(given)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')}, got {describe(given)}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected', '?')}, got {describe(given)}"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    if kind == "assertion_error":
        return str(detail["msg"]).removeprefix("Assertion failed, ")
    message = str(detail["msg"])
    if message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    return message[:1].lower() + message[1:]
