"""Classify a change of one field's definition for the schema planner.

`classify_change(old, new)` answers "metadata" (no DDL, data valid as is), "rewrite"
(the column is altered or its values rewritten, nothing is lost) or "destructive"
(values may be lost or become meaningless: narrowing). The decision is made on the
storage families (`FieldType.storage_for`), in this order:

1. computed on both sides: metadata; column dropped: destructive; column added: rewrite.
2. to or from a relation: metadata only between relations with the same storage
   (single/multiple, user/record) and the same `reference`; otherwise destructive.
3. to a password or secret, or from a password: destructive (hashes cannot be read back).
4. same storage: metadata, except decimals (narrower precision/scale: destructive,
   wider: rewrite) and vectors with other `dimensions` (destructive).
5. a list to anything but a list or json: destructive.
6. anything to text: rewrite (serialised as text); anything to json: metadata when
   already JSON, else rewrite.
7. listed widenings (integer -> float, date -> datetime, one file -> files, ...): rewrite;
   location/address -> composite/record: metadata.
8. everything else (text -> number, float -> integer, ...): destructive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.fieldtypes.registry import get_type

if TYPE_CHECKING:
    from apps.artifact.models import Field

METADATA, REWRITE, DESTRUCTIVE = "metadata", "rewrite", "destructive"

LIST_STORAGES = frozenset(
    {"json_list", "json_rows", "json_files", "json_ids", "json_user_ids", "vector"}
)
JSON_STORAGES = LIST_STORAGES | {"json", "json_object", "json_file", "location", "address"}
RELATION_STORAGES = frozenset({"reference", "user", "json_ids", "json_user_ids"})
SECRET_STORAGES = frozenset({"password", "secret"})
WIDENINGS = frozenset(
    {
        ("integer", "float"),
        ("integer", "decimal"),
        ("boolean", "integer"),
        ("boolean", "float"),
        ("boolean", "decimal"),
        ("date", "datetime"),
        ("json_file", "json_files"),
        ("text", "json_list"),
    }
)
# JSON shapes that are valid values of another JSON shape as they are.
COMPATIBLE = frozenset({("location", "json_object"), ("address", "json_object")})
# Largest decimal that converts to float without losing digits.
FLOAT_SAFE_DIGITS = 15


def classify_change(old: Field, new: Field) -> str:
    """metadata | rewrite | destructive for `old` -> `new` (same field, new definition)."""
    old_storage = get_type(old.type).storage_for(old)
    new_storage = get_type(new.type).storage_for(new)
    if "none" in (old_storage, new_storage):
        if old_storage == new_storage:
            return METADATA
        return DESTRUCTIVE if new_storage == "none" else REWRITE
    if old_storage in RELATION_STORAGES or new_storage in RELATION_STORAGES:
        if old_storage == new_storage and old.reference == new.reference:
            return METADATA
        if new_storage in RELATION_STORAGES:
            return DESTRUCTIVE
    if old_storage != new_storage and (new_storage in SECRET_STORAGES or old_storage == "password"):
        return DESTRUCTIVE
    if old_storage == new_storage:
        return _same_storage(old, new, old_storage)
    if old_storage in LIST_STORAGES and new_storage not in LIST_STORAGES | {"json"}:
        return DESTRUCTIVE
    if new_storage == "text":
        return REWRITE
    if new_storage == "json":
        return METADATA if old_storage in JSON_STORAGES else REWRITE
    if old_storage == "decimal" and new_storage == "float":
        return REWRITE if _decimal_shape(old)[0] <= FLOAT_SAFE_DIGITS else DESTRUCTIVE
    if (old_storage, new_storage) in COMPATIBLE:
        return METADATA
    if (old_storage, new_storage) in WIDENINGS:
        return REWRITE
    return DESTRUCTIVE


def _same_storage(old: Field, new: Field, storage: str) -> str:
    if storage == "decimal":
        old_digits, old_places = _decimal_shape(old)
        new_digits, new_places = _decimal_shape(new)
        if new_places < old_places or new_digits - new_places < old_digits - old_places:
            return DESTRUCTIVE
        return METADATA if (old_digits, old_places) == (new_digits, new_places) else REWRITE
    if storage == "vector" and old.dimensions != new.dimensions:
        return DESTRUCTIVE
    return METADATA


def _decimal_shape(field: Field) -> tuple[int, int]:
    column = get_type(field.type).model_field(field)
    assert isinstance(column, models.DecimalField)
    return column.max_digits, column.decimal_places
