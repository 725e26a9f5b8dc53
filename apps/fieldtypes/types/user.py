"""user: a reference to the Django user (AUTH_USER_MODEL); ids are integers.

The FK has no database constraint and DO_NOTHING on delete (users live outside the
project's tables). The default "current_user" becomes CURRENT_USER, resolved by the
write path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from apps.fieldtypes.base import CURRENT_USER, Relation
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._list import json_column
from apps.fieldtypes.types._relation import RelationFamily, clean_user_id

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class UserType(RelationFamily):
    name = "user"
    storage = "user"

    def storage_for(self, field: Field) -> str:
        return "json_user_ids" if field.multiple else self.storage

    def on_delete_for(self, field: Field) -> Any:
        return models.DO_NOTHING

    def model_field(self, field: Field, relation: Relation | None = None) -> models.Field:
        if field.multiple:
            return json_column(field)
        return models.ForeignKey(
            relation.to if relation is not None else settings.AUTH_USER_MODEL,
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            db_column=field.name,
            null=True,
            blank=True,
            related_name="+",
            db_index=True,
        )

    def clean_id(self, field: Field, value: Any) -> int:
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        return clean_user_id(field, value)

    def default(self, field: Field) -> Any:
        if field.default_value == "current_user":
            return [CURRENT_USER] if field.multiple else CURRENT_USER
        return super().default(field)

    def id_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1}
