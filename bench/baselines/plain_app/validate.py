"""Minimal hand validation of a task payload: known, writable fields with sane values."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from common.models import STATUSES

CENT = Decimal("0.01")


class Invalid(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"])
        self.status = status
        self.body = body


def _text(value: Any, limit: int | None) -> str:
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise ValueError("must be text" + (f" of at most {limit} characters" if limit else ""))
    return value


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"must be one of: {', '.join(STATUSES)}")
    return value


def _priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError("must be a whole number")
    if not 1 <= value <= 5:
        raise ValueError("must be between 1 and 5")
    return int(value)


def _date(value: Any) -> datetime.date:
    if not isinstance(value, str):
        raise ValueError("must be a date YYYY-MM-DD")
    return datetime.date.fromisoformat(value)


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError("must be a finite number")
    if abs(amount) >= Decimal(10) ** 16:
        raise ValueError("is too large")
    return amount


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


CLEANERS = {
    "title": lambda v: _text(v, 200),
    "status": _status,
    "priority": _priority,
    "due_date": _date,
    "amount": _amount,
    "description": lambda v: _text(v, None),
    "done": _boolean,
}


def clean(data: Any, *, writable: frozenset[str], creating: bool) -> dict[str, Any]:
    """Column values from a JSON body; raises Invalid (400) listing every problem."""
    if not isinstance(data, dict):
        raise Invalid(400, {"error": "the body must be a JSON object", "code": "VALIDATION_FAILED"})
    for name in data:
        if name not in writable:
            raise Invalid(400, {"error": f"unknown field '{name}'", "code": "INVALID_FIELD",
                                "field": name})
    values: dict[str, Any] = {}
    problems = []
    for name, value in data.items():
        if value is None:
            values[name] = None
            continue
        try:
            values[name] = CLEANERS[name](value)
        except ValueError as error:
            problems.append({"field": name, "code": "invalid", "message": f"{name} {error}"})
    if (creating or "title" in data) and not values.get("title") and "title" not in {
            p["field"] for p in problems}:
        problems.append({"field": "title", "code": "required", "message": "title is required"})
    if problems:
        raise Invalid(400, {"error": "validation failed", "code": "VALIDATION_FAILED",
                            "fields": problems})
    return values
