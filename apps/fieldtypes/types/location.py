"""location: GPS coordinates `{lat, lng}` (or `{latitude, longitude}`), optional altitude/accuracy.

Both spellings are accepted (the protocol's LocationCoordinates uses latitude/longitude)
and kept as written; mixing them, unknown keys and out-of-range values are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.checks import expect_number
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily, expect_object

if TYPE_CHECKING:
    from apps.artifact.models import Field

SPELLINGS = (("lat", "lng"), ("latitude", "longitude"))
OPTIONAL_KEYS = ("altitude", "accuracy")


@register
class LocationType(StructuredFamily):
    name = "location"
    storage = "location"

    def check_shape(self, field: Field, value: Any) -> dict[str, float]:
        point = expect_object(field, value)
        for lat_key, lng_key in SPELLINGS:
            if set(point) - set(OPTIONAL_KEYS) == {lat_key, lng_key}:
                break
        else:
            raise FieldValueError(
                "invalid_location",
                f"{field.name}: expected {{lat, lng}} or {{latitude, longitude}}"
                f" plus optional {', '.join(OPTIONAL_KEYS)}",
            )
        cleaned = {key: float(expect_number(field, number)) for key, number in point.items()}
        if not -90 <= cleaned[lat_key] <= 90 or not -180 <= cleaned[lng_key] <= 180:
            raise FieldValueError(
                "out_of_range", f"{field.name}: latitude must be -90..90, longitude -180..180"
            )
        if cleaned.get("accuracy", 0) < 0:
            raise FieldValueError("out_of_range", f"{field.name}: accuracy cannot be negative")
        return cleaned

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
                "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                "altitude": {"type": "number"},
                "accuracy": {"type": "number", "minimum": 0},
            },
        }
