"""password: stored as a Django password hash, never returned, never filtered or sorted.

`clean` hashes the plain text (at least 1 character unless `min_length` says
otherwise); `verify` checks a candidate against the stored hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import check_password, make_password

from apps.fieldtypes.base import NO_OPS, FieldType
from apps.fieldtypes.checks import check_length, expect_str
from apps.fieldtypes.registry import register

if TYPE_CHECKING:
    from apps.artifact.models import Field

DEFAULT_MIN_LENGTH = 1  # the protocol sets none; a field's minLength raises it


@register
class PasswordType(FieldType):
    name = "password"
    storage = "password"
    operators = NO_OPS
    returned = False
    sortable = False

    def clean(self, field: Field, value: Any) -> str | None:
        if value is None:
            return None
        plain = check_length(field, expect_str(field, value), default_min=DEFAULT_MIN_LENGTH)
        return make_password(plain)

    def to_wire(self, field: Field, value: Any) -> None:
        return None

    def verify(self, field: Field, candidate: str, stored: str | None) -> bool:
        """True when `candidate` is the password whose hash is `stored`."""
        return bool(stored) and check_password(candidate, stored)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string", "format": "password", "writeOnly": True}
