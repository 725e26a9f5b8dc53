"""email: one e-mail address (Django's validator), trimmed; blank means no value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._text import TextFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class EmailType(TextFamily):
    name = "email"
    blank_is_null = True
    schema_extra = {"format": "email"}

    def normalize(self, field: Field, value: str) -> str:
        value = value.strip()
        try:
            validate_email(value)
        except ValidationError:
            raise FieldValueError(
                "invalid_email", f"{field.name}: {value!r} is not an e-mail address"
            )
        return value
