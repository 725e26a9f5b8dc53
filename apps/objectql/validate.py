"""Turn a client payload into column values: known fields, editable, cleaned, required."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.fieldtypes.base import FieldValueError, resolve_default
from apps.fieldtypes.registry import get_type
from apps.kernel.kernel import ObjectRuntime
from apps.objectql.exceptions import Forbidden, InvalidField, ValidationFailed
from apps.security.access import Access
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS

DATETIME = get_type("datetime")


def problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def clean_payload(
    runtime: ObjectRuntime,
    access: Access,
    data: Any,
    *,
    creating: bool,
    prefix: str = "",
    user_id: int | None = None,
    system: bool = False,
) -> dict[str, Any]:
    """Cleaned values of the fields present in `data` (plus defaults on create).

    Raises InvalidField for unknown names, Forbidden for system or non-editable
    fields, ValidationFailed listing every bad value at once.
    """
    if not isinstance(data, dict):
        raise ValidationFailed(f"{prefix or 'body'} must be a JSON object")
    forbidden = []
    for name in data:
        if name in SYSTEM_FIELD_DEFS:
            if (name == "owner_id" and access.can_transfer) or (system and name != "id"):
                continue
            if name == "id" and not creating:
                continue  # the id in an update body is the record's own id
            forbidden.append(name)
            continue
        field = runtime.fields.get(name)
        if field is None or name not in access.readable and name not in access.editable:
            raise InvalidField(f"unknown field '{prefix}{name}'", field=f"{prefix}{name}")
        if (
            field.type.computed
            or name not in access.editable
            or (field.definition.readonly and not creating)
        ):
            forbidden.append(name)
    if forbidden:
        raise Forbidden(
            f"you may not set {', '.join(prefix + n for n in forbidden)}",
            fields=[
                problem(prefix + n, "not_editable", "this field cannot be set") for n in forbidden
            ],
        )
    values: dict[str, Any] = {}
    problems = []
    for name, value in data.items():
        if name in SYSTEM_FIELD_DEFS:
            if name in ("owner_id", "created_by", "updated_by"):
                values[name] = _owner(value, prefix, problems)
            elif name != "id":
                values[name] = _timestamp(name, value, prefix, problems)
            continue
        field = runtime.fields[name]
        if value is None:
            values[name] = None
            continue
        try:
            values[name] = field.type.clean(field.definition, value)
        except FieldValueError as error:
            problems.append(problem(prefix + name, error.code, error.message))
    if creating:
        for name in runtime.writable:
            if name not in data:
                field = runtime.fields[name]
                try:
                    default = field.type.default(field.definition)
                except FieldValueError:
                    default = None
                if default is not None:
                    values[name] = resolve_default(default, user_id=user_id, now=timezone.now())
    for name in runtime.writable:
        field = runtime.fields[name]
        if field.definition.required and (creating or name in data) and _empty(values.get(name)):
            if name not in data and not creating:
                continue
            if any(p["field"] == prefix + name for p in problems):
                continue  # the value given was refused already; it is not missing
            problems.append(problem(prefix + name, "required", f"{name} is required"))
    if problems:
        raise ValidationFailed("validation failed", fields=problems)
    return values


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _timestamp(name: str, value: Any, prefix: str, problems: list) -> Any:
    try:
        return DATETIME.clean(SYSTEM_FIELD_DEFS[name], value)
    except FieldValueError as error:
        problems.append(problem(prefix + name, error.code, error.message))
        return None


def _owner(value: Any, prefix: str, problems: list) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    problems.append(problem(prefix + "owner_id", "invalid_type", "owner_id must be a user id"))
    return None
