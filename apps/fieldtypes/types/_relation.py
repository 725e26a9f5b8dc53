"""Relation family (lookup, master_detail, tree): a ForeignKey to `field.reference`.

Single: `ForeignKey(relation.to, on_delete=relation.on_delete, db_column=field.name,
null=True, related_name="+")`, so the model attribute `<name>_id` holds the id.
`multiple`: a JSON array of distinct ids (no database constraint). Ids are non-empty
strings; `clean` does not check that the target exists (the write path does). A
reference to the users (`sys_user`, ...) takes user ids, integers, like the `user` type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

from apps.fieldtypes.base import (
    EQUALITY_OPS,
    LIST_OPS,
    FieldType,
    FieldValueError,
    Relation,
)
from apps.fieldtypes.checks import invalid_type
from apps.fieldtypes.types._list import clean_list, json_column, list_operand

if TYPE_CHECKING:
    from apps.artifact.models import Field

# References that name the platform's users rather than an object of the artifact.
USER_REFERENCES = frozenset({"sys_user", "user", "users", "_user"})

ON_DELETE = {
    "set_null": models.SET_NULL,
    "cascade": models.CASCADE,
    "restrict": models.RESTRICT,
}


class RelationFamily(FieldType):
    """A reference to one record (FK) or, with `multiple`, a JSON array of ids."""

    storage = "reference"
    operators = EQUALITY_OPS
    relational = True
    # deleteBehavior when the field does not say.
    default_delete_behavior: ClassVar[str] = "set_null"

    def storage_for(self, field: Field) -> str:
        return "json_ids" if field.multiple else self.storage

    def operators_for(self, field: Field) -> frozenset[str]:
        return LIST_OPS if field.multiple else EQUALITY_OPS

    def on_delete_for(self, field: Field) -> Any:
        """The Django deletion handler for `field.delete_behavior` (or the type's default)."""
        return ON_DELETE[field.delete_behavior or self.default_delete_behavior]

    def model_field(self, field: Field, relation: Relation | None = None) -> models.Field:
        if field.multiple:
            return json_column(field)
        if relation is None:
            raise ValueError(f"{self.name} field {field.name!r} needs a Relation to build its FK")
        return models.ForeignKey(
            relation.to,
            on_delete=relation.on_delete,
            db_constraint=relation.db_constraint,
            db_column=field.name,
            null=True,
            blank=True,
            related_name="+",
            db_index=True,
        )

    def clean(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        if field.multiple:
            return clean_list(field, value, lambda item: self.clean_id(field, item))
        return self.clean_id(field, value)

    def clean_id(self, field: Field, value: Any) -> Any:
        """One target id; an expanded record `{"id": ...}` is accepted for its id."""
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if field.reference in USER_REFERENCES:
            return clean_user_id(field, value)
        if not isinstance(value, str):
            raise invalid_type(field, "a record id (string)", value)
        if not value.strip():
            raise FieldValueError("invalid_id", f"{field.name}: a record id cannot be empty")
        return value

    def coerce_operand(self, field: Field, value: Any) -> Any:
        return self.clean_id(field, value)

    def filter_operand(self, field: Field, op: str, value: Any) -> Any:
        if not field.multiple:
            return super().filter_operand(field, op, value)
        return list_operand(
            field,
            op,
            value,
            lambda item: self.clean_id(field, item),
            lambda items: self.clean(field, items),
        )

    def id_schema(self) -> dict[str, Any]:
        return {"type": "string"}

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        schema = {"type": "integer"} if field.reference in USER_REFERENCES else self.id_schema()
        item = {**schema, "description": f"id of a {field.reference} record"}
        if field.multiple:
            return {"type": "array", "items": item, "uniqueItems": True}
        return item


def clean_user_id(field: Field, value: Any) -> int:
    """A user id: an integer, or its decimal digits as a string."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(field, "a user id (integer)", value)
    if value < 1:
        raise FieldValueError("invalid_id", f"{field.name}: {value} is not a user id")
    return value
