"""Settings read from environment variables, each checked as it is read.

A value that cannot be what the setting needs stops the process at once with one line
naming the variable, the rule and the value given (`SystemExit`, exit code 1), before
anything is served or written: `OS_CONN_MAX_AGE must be a whole number, not 'ten'`.
An unset or empty variable takes the default.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, NoReturn

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def refuse(name: str, rule: str, raw: str) -> NoReturn:
    raise SystemExit(f"{name} must be {rule}, not {raw!r}")


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = _raw(name)
    if not raw:
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    refuse(name, "one of 1, true, yes, on, 0, false, no, off", raw)


def env_int(name: str, default: int, minimum: int = 0) -> int:
    return _number(name, default, minimum, int, "a whole number")


def env_float(name: str, default: float, minimum: float = 0) -> float:
    return _number(name, default, minimum, float, "a number")


def _number(name: str, default: Any, minimum: float, parse: Any, noun: str) -> Any:
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        refuse(name, noun, raw)
    if not math.isfinite(value) or value < minimum:
        refuse(name, f"{noun} of at least {minimum:g}", raw)
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    """One of `choices`; with `upper`, the value given in any case."""
    raw = _raw(name)
    if not raw:
        return default
    if upper:
        raw = raw.upper()
    if raw not in choices:
        refuse(name, "one of " + ", ".join(choices), raw)
    return raw


def env_json_object(name: str) -> dict[str, Any]:
    raw = _raw(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        refuse(name, "a JSON object", raw)
    if not isinstance(value, dict):
        refuse(name, "a JSON object", raw)
    return value
