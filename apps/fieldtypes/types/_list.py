"""List-valued columns (multiselect, checkboxes, tags, multiple relations): JSON arrays.

A stored list has distinct elements; `[]` is kept as `[]` (the write path should treat
an empty list as "no value" for `required`). Filter operands, Mongo style:

- `$contains: x`  the list has element x
- `$eq: x`        (scalar) same as `$contains: x`, so `?tags=urgent` works
- `$eq: [..]`     the list equals this list (normalised like a stored value)
- `$in: [..]`     the list has at least one of these elements
- `$nin: [..]`    the list has none of these elements
- `$null: true`   no value: NULL or `[]`; `$exists` is the opposite of `$null`
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import models

from apps.fieldtypes.base import LIST_OPS, PRESENCE_OPS, FieldType, FieldValueError, parse_flag
from apps.fieldtypes.checks import invalid_type

if TYPE_CHECKING:
    from apps.artifact.models import Field

Item = Callable[[Any], Any]


def json_column(field: Field) -> models.JSONField:
    return models.JSONField(db_column=field.name, null=True, blank=True)


def clean_list(field: Field, value: Any, clean_item: Item) -> list[Any]:
    """Each element cleaned, duplicates dropped (first occurrence kept)."""
    if not isinstance(value, list | tuple):
        raise invalid_type(field, "an array", value)
    items: list[Any] = []
    for raw in value:
        item = clean_item(raw)
        if item not in items:
            items.append(item)
    return items


def list_operand(
    field: Field, op: str, value: Any, operand_item: Item, normalize: Callable[[Any], list[Any]]
) -> Any:
    """The operand of `op` on a list column (see the module docstring for the meaning)."""
    if op not in LIST_OPS:
        raise FieldValueError(
            "invalid_operator", f"operator {op} is not supported on list field {field.name!r}"
        )
    if op in PRESENCE_OPS:
        return parse_flag(value)
    if op in ("$in", "$nin"):
        items = value if isinstance(value, list | tuple) else [value]
        return [operand_item(item) for item in items]
    if op == "$eq" and isinstance(value, list | tuple):
        return normalize(value)
    if value is None:
        raise FieldValueError("invalid_operand", f"{op} on {field.name} needs a value")
    return operand_item(value)


class ListFamily(FieldType):
    """A JSON array of distinct elements; subclasses define `clean_item`."""

    storage = "json_list"
    operators = LIST_OPS
    sortable = False

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        return json_column(field)

    def clean(self, field: Field, value: Any) -> list[Any] | None:
        if value is None:
            return None
        return clean_list(field, value, lambda item: self.clean_item(field, item))

    def clean_item(self, field: Field, item: Any) -> Any:
        raise NotImplementedError

    def operand_item(self, field: Field, item: Any) -> Any:
        return self.clean_item(field, item)

    def filter_operand(self, field: Field, op: str, value: Any) -> Any:
        return list_operand(
            field,
            op,
            value,
            lambda item: self.operand_item(field, item),
            lambda items: self.clean(field, items) or [],
        )

    def item_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string"}

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "array", "items": self.item_schema(field), "uniqueItems": True}
