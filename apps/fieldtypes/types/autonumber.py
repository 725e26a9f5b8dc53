"""autonumber: a unique TEXT number assigned on create from `field.format`, never by clients.

Formats: `{0000}` is the sequence number zero-padded to the count of zeros (longer
numbers keep all their digits), `{YYYY}` `{YY}` `{MM}` `{DD}` the creation date;
everything else is literal. Without a format: `{0000}`. The write path takes the next
number of the field's sequence and calls `format_number`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, ORDER_OPS, TEXT_OPS, FieldType
from apps.fieldtypes.checks import expect_str
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._computed import readonly

if TYPE_CHECKING:
    from apps.artifact.models import Field

DEFAULT_FORMAT = "{0000}"
TOKEN = re.compile(r"\{(0+|YYYY|YY|MM|DD)\}")


def format_number(template: str | None, number: int, now: dt.datetime) -> str:
    """`INV-{YYYY}-{0000}` with 7 on 2024-05-01 -> `INV-2024-0007`."""
    template = template or DEFAULT_FORMAT

    def token(match: re.Match[str]) -> str:
        part = match.group(1)
        if part.startswith("0"):
            return str(number).zfill(len(part))
        return {
            "YYYY": f"{now.year:04d}",
            "YY": f"{now.year % 100:02d}",
            "MM": f"{now.month:02d}",
            "DD": f"{now.day:02d}",
        }[part]

    text = TOKEN.sub(token, template)
    if not any(m.group(1).startswith("0") for m in TOKEN.finditer(template)):
        text += str(number)
    return text


@register
class AutonumberType(FieldType):
    name = "autonumber"
    storage = "autonumber"
    operators = EQUALITY_OPS | ORDER_OPS | TEXT_OPS
    computed = True
    text_searchable = True

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return models.TextField(db_column=field.name, null=True, blank=True, unique=True)

    def clean(self, field: Field, value: Any) -> Any:
        raise readonly(field)

    def coerce_operand(self, field: Field, value: Any) -> str:
        return expect_str(field, value)

    def default(self, field: Field) -> None:
        return None

    def format_number(self, field: Field, number: int, now: dt.datetime) -> str:
        """The value of the `number`-th record created at `now`."""
        return format_number(field.format, number, now)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string", "readOnly": True}
