"""date: a DateField; accepts `YYYY-MM-DD` (or the date part of an ISO datetime) and sends it back."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import NOW, TODAY
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._temporal import TemporalFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class DateType(TemporalFamily):
    name = "date"
    storage = "date"
    django_field = models.DateField
    # A bare date, or a full ISO datetime whose written date part is kept (JS toISOString).
    pattern = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
    error_code = "invalid_date"
    expected = "an ISO-8601 date (YYYY-MM-DD)"
    json_format = "date"
    dynamic_defaults = {"today": TODAY, "now": NOW}

    def parse(self, text: str) -> dt.date:
        if len(text) > 10:
            dt.datetime.fromisoformat(text)  # validates the time part
        return dt.date.fromisoformat(text[:10])

    def from_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return None
        return value if isinstance(value, dt.date) else None

    def to_wire(self, field: Field, value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.isoformat() if value is not None else None
