"""Computed family (formula, summary): no column, read-only, values produced elsewhere.

`model_field` is None; the value a reader sees is computed by automation (formula
expression, roll-up summary) and passed through `to_wire`, which turns Decimals and
dates into JSON values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import NO_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import json_number
from apps.fieldtypes.types.datetime import to_iso_z

if TYPE_CHECKING:
    from apps.artifact.models import Field


def readonly(field: Field) -> FieldValueError:
    return FieldValueError("readonly", f"{field.name} is computed and cannot be written")


class ComputedFamily(FieldType):
    """A value computed on read; clients cannot write it, filter on it or sort by it."""

    storage = "none"
    operators = NO_OPS
    computed = True
    sortable = False
    needs_wire_conversion = True

    def model_field(self, field: Field, relation: Any = None) -> models.Field | None:
        return None

    def clean(self, field: Field, value: Any) -> Any:
        raise readonly(field)

    def default(self, field: Field) -> None:
        return None

    def to_wire(self, field: Field, value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        if isinstance(value, dt.datetime):
            return to_iso_z(value)
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        return value

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"readOnly": True}
