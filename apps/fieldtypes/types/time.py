"""time: a TimeField without time zone; accepts `HH:MM[:SS[.fff]]`, sends `HH:MM:SS`.

Fractions of a second are dropped on write so that what is stored is what is read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._temporal import TemporalFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class TimeType(TemporalFamily):
    name = "time"
    storage = "time"
    django_field = models.TimeField
    pattern = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
    error_code = "invalid_time"
    expected = "a time of day (HH:MM or HH:MM:SS)"
    json_format = "time"

    def parse(self, text: str) -> dt.time:
        return dt.time.fromisoformat(text).replace(microsecond=0)

    def from_python(self, value: Any) -> dt.time | None:
        if isinstance(value, dt.time) and value.tzinfo is None:
            return value.replace(microsecond=0)
        return None

    def to_wire(self, field: Field, value: Any) -> str | None:
        return value.strftime("%H:%M:%S") if value is not None else None
