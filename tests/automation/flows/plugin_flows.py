"""A test plugin: functions the flows test app's script nodes call."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def double(ctx, inputs: dict[str, Any]) -> int:
    return int(inputs["value"]) * 2


def next_day(ctx, inputs: dict[str, Any]) -> date:
    return date.fromisoformat(inputs["day"]) + timedelta(days=1)


def explode(ctx, inputs: dict[str, Any]) -> None:
    raise RuntimeError("the function broke")


def register(kernel) -> None:
    kernel.register_function("double", double)
    kernel.register_function("nextDay", next_day)
    kernel.register_function("explode", explode)
