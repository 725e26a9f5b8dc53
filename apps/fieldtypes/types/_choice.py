"""Choice family (select, radio, multiselect, checkboxes): values from `field.options`.

A single choice is TEXT; a list choice (multiselect, checkboxes, `multiple` select)
is a JSON array of distinct option values kept in the options' order, so equal
selections are equal lists. Filters do not require operands to be current options
(old rows may hold values since removed from the options).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, LIST_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import expect_str
from apps.fieldtypes.types._list import clean_list, json_column, list_operand

if TYPE_CHECKING:
    from apps.artifact.models import Field


def option_values(field: Field) -> list[Any]:
    """The allowed values in declaration order ([] when the field has no options)."""
    return [option.value for option in field.options or []]


class ChoiceFamily(FieldType):
    """One option value (TEXT) or, for list choices, a JSON array of option values."""

    storage = "text"
    operators = EQUALITY_OPS
    # True for types that always hold a list (multiselect, checkboxes).
    always_list: ClassVar[bool] = False
    # False for types that ignore `multiple` (radio).
    honours_multiple: ClassVar[bool] = True

    def is_list(self, field: Field) -> bool:
        return self.always_list or (self.honours_multiple and bool(field.multiple))

    def storage_for(self, field: Field) -> str:
        return "json_list" if self.is_list(field) else "text"

    def operators_for(self, field: Field) -> frozenset[str]:
        return LIST_OPS if self.is_list(field) else EQUALITY_OPS

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        if self.is_list(field):
            return json_column(field)
        return models.TextField(
            db_column=field.name, null=True, blank=True, unique=field.unique is True
        )

    def clean(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        if self.is_list(field):
            return self.clean_choices(field, value)
        if isinstance(value, str) and not value.strip():
            return None
        return self.check_choice(field, value)

    def check_choice(self, field: Field, value: Any) -> str:
        value = expect_str(field, value)
        allowed = option_values(field)
        if allowed and value not in allowed:
            choices = ", ".join(str(choice) for choice in allowed)
            raise FieldValueError(
                "invalid_choice", f"{field.name}: {value!r} is not one of: {choices}"
            )
        return value

    def clean_choices(self, field: Field, value: Any) -> list[Any]:
        chosen = clean_list(field, value, lambda item: self.check_choice(field, item))
        order = {choice: index for index, choice in enumerate(option_values(field))}
        return sorted(chosen, key=lambda item: order.get(item, len(order)))

    def filter_operand(self, field: Field, op: str, value: Any) -> Any:
        if not self.is_list(field):
            return super().filter_operand(field, op, value)
        return list_operand(
            field,
            op,
            value,
            lambda item: expect_str(field, item),
            lambda items: self.clean_choices(field, items),
        )

    def coerce_operand(self, field: Field, value: Any) -> str:
        return expect_str(field, value)

    def default(self, field: Field) -> Any:
        if field.default_value is not None:
            return self.clean(field, field.default_value)
        marked = [option.value for option in field.options or [] if option.default]
        if self.is_list(field):
            return marked or None
        return marked[0] if marked else None

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "string"}
        if field.options:
            item["enum"] = option_values(field)
        if self.is_list(field):
            return {"type": "array", "items": item, "uniqueItems": True}
        return item
