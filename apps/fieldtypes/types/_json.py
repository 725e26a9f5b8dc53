"""Structured family (composite, repeater, record, location, address, json, vector).

A JSONField whose value shape `check_shape` validates; filters only ask whether a
value is there (`$null`, `$exists`), json also compares whole values with `$eq`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import PRESENCE_OPS, FieldType
from apps.fieldtypes.checks import ensure_json, invalid_type
from apps.fieldtypes.types._list import json_column

if TYPE_CHECKING:
    from apps.artifact.models import Field


class StructuredFamily(FieldType):
    """A JSON value of a fixed shape; subclasses implement `check_shape`."""

    storage = "json"
    operators = PRESENCE_OPS
    sortable = False

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return json_column(field)

    def clean(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        return self.check_shape(field, ensure_json(field, value))

    def check_shape(self, field: Field, value: Any) -> Any:
        return value

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {}


def expect_object(field: Field, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_type(field, "an object", value)
    return value


def expect_array(field: Field, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise invalid_type(field, "an array", value)
    return value
