"""address: a JSON object of strings: street, city, state, postalCode, country, countryCode, formatted.

Unknown keys are refused; null members are dropped; snake_case spellings
(`postal_code`, `country_code`) are accepted and stored in camelCase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._json import StructuredFamily, expect_object

if TYPE_CHECKING:
    from apps.artifact.models import Field

ADDRESS_KEYS = ("street", "city", "state", "postalCode", "country", "countryCode", "formatted")
ALIASES = {"postal_code": "postalCode", "zip": "postalCode", "country_code": "countryCode"}


@register
class AddressType(StructuredFamily):
    name = "address"
    storage = "address"

    def check_shape(self, field: Field, value: Any) -> dict[str, str]:
        address: dict[str, str] = {}
        for key, part in expect_object(field, value).items():
            key = ALIASES.get(key, key)
            if key not in ADDRESS_KEYS:
                raise FieldValueError(
                    "invalid_address",
                    f"{field.name}: unknown key {key!r}; allowed: {', '.join(ADDRESS_KEYS)}",
                )
            if part is None:
                continue
            if not isinstance(part, str):
                raise FieldValueError("invalid_address", f"{field.name}.{key} must be a string")
            address[key] = part
        return address

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {key: {"type": "string"} for key in ADDRESS_KEYS},
            "additionalProperties": False,
        }
