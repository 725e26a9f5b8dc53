"""Number family: float, integer or fixed-point decimal columns with min/max checks.

`clean` takes JSON numbers only (no booleans, no numeric strings, no NaN/inf);
`coerce_operand` also takes numeric strings because query-string filters arrive as
text. Decimals are quantised to `scale` (half up) and must fit `precision` digits;
on the wire a Decimal is an int when integral, else a float.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import EQUALITY_OPS, ORDER_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import expect_number, json_number

if TYPE_CHECKING:
    from apps.artifact.models import Field

Number = int | float | Decimal
DEFAULT_PRECISION = 18


class NumberFamily(FieldType):
    """A numeric column; `storage_for(field)` is "float", "integer" or "decimal"."""

    storage = "float"
    operators = EQUALITY_OPS | ORDER_OPS
    default_min: ClassVar[float | None] = None
    default_max: ClassVar[float | None] = None
    default_scale: ClassVar[int | None] = None

    # -- shape ---------------------------------------------------------------------
    def bounds(self, field: Field) -> tuple[Number | None, Number | None]:
        low = field.min if field.min is not None else self.default_min
        high = field.max if field.max is not None else self.default_max
        return low, high

    def decimal_shape(self, field: Field) -> tuple[int, int]:
        """(max_digits, decimal_places) of a decimal column."""
        scale = field.scale if field.scale is not None else (self.default_scale or 0)
        return max(field.precision or DEFAULT_PRECISION, scale, 1), scale

    def model_field(self, field: Field, relation: Any = None) -> models.Field:
        options: dict[str, Any] = {
            "db_column": field.name,
            "null": True,
            "blank": True,
            "unique": field.unique is True,
        }
        kind = self.storage_for(field)
        if kind == "decimal":
            digits, places = self.decimal_shape(field)
            return models.DecimalField(max_digits=digits, decimal_places=places, **options)
        if kind == "integer":
            return models.IntegerField(**options)
        return models.FloatField(**options)

    # -- values --------------------------------------------------------------------
    def clean(self, field: Field, value: Any) -> Number | None:
        if value is None:
            return None
        number = self.store(field, expect_number(field, value))
        self.check_bounds(field, number)
        self.check_step(field, number)
        return number

    def store(self, field: Field, number: Number) -> Number:
        kind = self.storage_for(field)
        if kind == "integer":
            if number != int(number):
                raise FieldValueError(
                    "not_integer", f"{field.name}: {number} is not a whole number"
                )
            return int(number)
        if kind == "decimal":
            return self.quantize(field, number)
        return float(number)

    def quantize(self, field: Field, number: Number) -> Decimal:
        digits, places = self.decimal_shape(field)
        exact = Decimal(str(number)) if isinstance(number, float) else Decimal(number)
        try:
            stored = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            stored = None
        if stored is None or abs(stored) >= Decimal(10) ** (digits - places):
            raise FieldValueError(
                "out_of_range",
                f"{field.name}: {number} does not fit {digits} digits with {places} decimals",
            )
        return stored

    def check_bounds(self, field: Field, number: Number) -> None:
        low, high = self.bounds(field)
        if low is not None and number < low:
            raise FieldValueError("too_small", f"{field.name}: {number} is less than {low}")
        if high is not None and number > high:
            raise FieldValueError("too_large", f"{field.name}: {number} is more than {high}")

    def check_step(self, field: Field, number: Number) -> None:
        """Hook for slider: the value must be a whole number of steps from the minimum."""

    def to_wire(self, field: Field, value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        return value

    def coerce_operand(self, field: Field, value: Any) -> Number:
        if isinstance(value, str):
            value = _parse_number(field, value)
        number = expect_number(field, value)
        kind = self.storage_for(field)
        if kind == "decimal":
            return Decimal(str(number)) if isinstance(number, float) else Decimal(number)
        if kind == "integer" and number == int(number):
            return int(number)
        return float(number)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        kind = self.storage_for(field)
        schema: dict[str, Any] = {"type": "integer" if kind == "integer" else "number"}
        low, high = self.bounds(field)
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
        if kind == "decimal":
            schema["multipleOf"] = json_number(Decimal(1).scaleb(-self.decimal_shape(field)[1]))
        return schema


def _parse_number(field: Field, text: str) -> Number:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise FieldValueError("invalid_number", f"{field.name}: {text!r} is not a number")
    if not number.is_finite():
        raise FieldValueError("invalid_number", f"{field.name}: {text!r} is not a finite number")
    return number


def on_step(number: Number, low: Number, step: Number) -> bool:
    """True when `number` is `low` plus a whole number of `step`s (float tolerant)."""
    steps = (float(number) - float(low)) / float(step)
    return math.isclose(steps, round(steps), rel_tol=1e-9, abs_tol=1e-9)
