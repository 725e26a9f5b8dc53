"""slider: a float from min (0) to max (100) on a whole number of steps (1) from min."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import Number, NumberFamily, on_step

if TYPE_CHECKING:
    from apps.artifact.models import Field

DEFAULT_STEP = 1


@register
class SliderType(NumberFamily):
    name = "slider"
    default_min = 0
    default_max = 100

    def check_step(self, field: Field, number: Number) -> None:
        low = self.bounds(field)[0] or 0
        step = field.step or DEFAULT_STEP
        if not on_step(number, low, step):
            raise FieldValueError(
                "invalid_step", f"{field.name}: {number} is not {low} plus a multiple of {step}"
            )

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        schema = super().openapi_schema(field)
        step = field.step or DEFAULT_STEP
        if not (self.bounds(field)[0] or 0) % step:
            schema["multipleOf"] = step
        return schema
