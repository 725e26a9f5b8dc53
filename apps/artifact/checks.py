"""Cross-reference checks of an artifact's structurally valid parts; returns every problem found.

Run on the elements the pydantic models accepted (all of them for a valid
artifact; `parts_of_document` validates element by element when the whole
document was refused, so that one broken object does not hide the other
problems). Names that point elsewhere (lookup references, summaries, seed data, permission sets, RLS
policies, sharing rules, position parents) must resolve, names must be unique,
choices must be consistent. An element that failed validation still counts
as declared (by its `name`), so references to it are not reported twice.
System objects the runtime provides may be named:
`sys_user`/`user` by relation fields, any `sys_*` object by permission sets,
policies, sharing rules and seed data (their fields are not checked).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from apps.artifact.issues import Issue, json_path
from apps.artifact.models import (
    CHOICE_TYPES,
    RELATION_TYPES,
    SYSTEM_FIELD_NAMES,
    USER_OBJECTS,
    Artifact,
    DataSeed,
    Field,
    Object,
    PermissionSet,
    Position,
    SharingRule,
)

SYSTEM_OBJECT_PREFIX = "sys_"
_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Parts:
    """The checked collections, index for index with the document; None where invalid."""

    objects: Sequence[Object | None]
    permissions: Sequence[PermissionSet | None]
    positions: Sequence[Position | None]
    sharing_rules: Sequence[SharingRule | None]
    data: Sequence[DataSeed | None]
    unchecked_objects: frozenset[str] = frozenset()
    unchecked_positions: frozenset[str] = frozenset()

    @classmethod
    def of(cls, artifact: Artifact) -> Parts:
        return cls(
            artifact.objects,
            artifact.permissions,
            artifact.positions,
            artifact.sharing_rules,
            artifact.data,
        )


def parts_of_document(document: dict[str, Any]) -> Parts:
    """Each element of the checked collections validated on its own (None if it fails)."""
    objects = _validate_each(document.get("objects"), Object)
    positions = _validate_each(document.get("positions"), Position)
    return Parts(
        objects=objects,
        permissions=_validate_each(document.get("permissions"), PermissionSet),
        positions=positions,
        sharing_rules=_validate_each(document.get("sharingRules"), SharingRule),
        data=_validate_each(document.get("data"), DataSeed),
        unchecked_objects=_names_of_invalid(document.get("objects"), objects),
        unchecked_positions=_names_of_invalid(document.get("positions"), positions),
    )


def _validate_each(items: Any, model: type[_Model]) -> list[_Model | None]:
    if not isinstance(items, list):
        return []
    valid: list[_Model | None] = []
    for item in items:
        try:
            valid.append(model.model_validate(item))
        except ValidationError:
            valid.append(None)
    return valid


def _names_of_invalid(items: Any, valid: Sequence[BaseModel | None]) -> frozenset[str]:
    if not isinstance(items, list):
        return frozenset()
    return frozenset(
        item["name"]
        for item, model in zip(items, valid, strict=True)
        if model is None and isinstance(item, dict) and isinstance(item.get("name"), str)
    )


def cross_reference_issues(artifact: Artifact | Parts) -> list[Issue]:
    """Every cross-reference problem, in document order."""
    parts = artifact if isinstance(artifact, Parts) else Parts.of(artifact)
    objects = _objects_by_name(parts)
    issues: list[Issue] = list(_duplicate_objects(parts))
    for index, obj in enumerate(parts.objects):
        if obj is not None:
            issues.extend(_object_issues(index, obj, objects))
    issues.extend(_seed_issues(parts, objects))
    issues.extend(_position_issues(parts))
    issues.extend(_permission_issues(parts, objects))
    issues.extend(_sharing_rule_issues(parts, objects))
    return issues


def _objects_by_name(parts: Parts) -> dict[str, Object | None]:
    """Declared objects by name; None for one that failed validation (not checked further)."""
    objects: dict[str, Object | None] = dict.fromkeys(parts.unchecked_objects)
    for obj in parts.objects:
        if obj is not None:
            objects.setdefault(obj.name, obj)
    return objects


def _is_system_object(name: str) -> bool:
    return name.startswith(SYSTEM_OBJECT_PREFIX)


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _duplicate_objects(parts: Parts) -> Iterator[Issue]:
    first: dict[str, int] = {}
    for index, obj in enumerate(parts.objects):
        if obj is None:
            continue
        if obj.name in first:
            yield Issue(
                json_path(("objects", index, "name")),
                f"duplicate object name '{obj.name}' (first declared at objects[{first[obj.name]}])",
            )
        else:
            first[obj.name] = index


def _object_issues(index: int, obj: Object, objects: dict[str, Object | None]) -> Iterator[Issue]:
    for name, field in obj.fields.items():
        at = ("objects", index, "fields", name)
        if field.type in RELATION_TYPES:
            yield from _relation_issues(at, obj, field, objects)
        elif field.type == "summary":
            yield from _summary_issues(at, obj, field, objects)
        elif field.type == "formula" and field.expression is None:
            yield Issue(json_path(at), "a formula field needs an `expression`")
        if field.type in CHOICE_TYPES:
            yield from _choice_issues(at, field)
    if obj.sharing_model == "controlled_by_parent" and not any(
        f.type == "master_detail" for f in obj.fields.values()
    ):
        yield Issue(
            json_path(("objects", index, "sharingModel")),
            "sharing model 'controlled_by_parent' needs a master_detail field to the parent",
        )


def _relation_issues(
    at: tuple[Any, ...], obj: Object, field: Field, objects: dict[str, Object | None]
) -> Iterator[Issue]:
    target = field.reference
    if target is None:
        yield Issue(json_path((*at, "reference")), f"a {field.type} field needs a `reference`")
    elif field.type == "tree" and target != obj.name:
        yield Issue(
            json_path((*at, "reference")),
            f"a tree field must reference its own object '{obj.name}', not '{target}'",
        )
    elif target not in objects and target not in USER_OBJECTS:
        yield Issue(
            json_path((*at, "reference")),
            f"{field.type} field references unknown object '{target}'",
        )


def _summary_issues(
    at: tuple[Any, ...], obj: Object, field: Field, objects: dict[str, Object | None]
) -> Iterator[Issue]:
    summary = field.summary_operations
    if summary is None:
        yield Issue(json_path(at), "a summary field needs `summaryOperations`")
        return
    if summary.object not in objects:
        yield Issue(
            json_path((*at, "summaryOperations", "object")),
            f"summary of unknown object '{summary.object}'",
        )
        return
    child = objects[summary.object]
    if child is None:
        return
    if summary.field is not None and summary.field not in child.fields:
        yield Issue(
            json_path((*at, "summaryOperations", "field")),
            f"object '{child.name}' has no field '{summary.field}'",
        )
    if not any(
        f.type in ("lookup", "master_detail") and f.reference == obj.name
        for f in child.fields.values()
    ):
        yield Issue(
            json_path((*at, "summaryOperations", "object")),
            f"object '{child.name}' has no lookup or master_detail field to '{obj.name}'",
        )


def _choice_issues(at: tuple[Any, ...], field: Field) -> Iterator[Issue]:
    seen: set[str] = set()
    for position, value in enumerate(field.option_values):
        if value in seen:
            yield Issue(
                json_path((*at, "options", position, "value")),
                f"duplicate option value '{value}'",
            )
        seen.add(value)
    default = field.default_value
    if default is None or not seen:
        return
    for value in default if isinstance(default, list) else [default]:
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or str(value) not in seen
        ):
            yield Issue(
                json_path((*at, "defaultValue")),
                f"default value {value!r} is not one of the options ({_quoted(field.option_values)})",
            )
            return


def _seed_issues(parts: Parts, objects: dict[str, Object | None]) -> Iterator[Issue]:
    for index, seed in enumerate(parts.data):
        if seed is None:
            continue
        if seed.object not in objects:
            if not _is_system_object(seed.object):
                yield Issue(
                    json_path(("data", index, "object")),
                    f"seed data for unknown object '{seed.object}'",
                )
            continue
        obj = objects[seed.object]
        if obj is None:
            continue
        known = set(obj.fields) | set(SYSTEM_FIELD_NAMES)
        keys = [seed.external_id] if isinstance(seed.external_id, str) else seed.external_id or []
        for key in keys:
            if key not in known:
                yield Issue(
                    json_path(("data", index, "externalId")),
                    f"external id '{key}' is not a field of object '{obj.name}'",
                )
        for row, record in enumerate(seed.records):
            for name in record:
                if name not in known:
                    yield Issue(
                        json_path(("data", index, "records", row, name)),
                        f"object '{obj.name}' has no field '{name}'",
                    )


def _position_names(parts: Parts) -> set[str]:
    names = {position.name for position in parts.positions if position is not None}
    return names | parts.unchecked_positions


def _position_issues(parts: Parts) -> Iterator[Issue]:
    names = _position_names(parts)
    seen: set[str] = set()
    for index, position in enumerate(parts.positions):
        if position is None:
            continue
        if position.name in seen:
            yield Issue(
                json_path(("positions", index, "name")),
                f"duplicate position name '{position.name}'",
            )
        seen.add(position.name)
        if position.parent is not None and position.parent not in names:
            yield Issue(
                json_path(("positions", index, "parent")),
                f"parent position '{position.parent}' is not defined",
            )


def _permission_issues(parts: Parts, objects: dict[str, Object | None]) -> Iterator[Issue]:
    positions = _position_names(parts)
    seen: set[str] = set()
    for index, permission_set in enumerate(parts.permissions):
        if permission_set is None:
            continue
        at = ("permissions", index)
        if permission_set.name in seen:
            yield Issue(
                json_path((*at, "name")), f"duplicate permission set name '{permission_set.name}'"
            )
        seen.add(permission_set.name)
        for name in permission_set.objects:
            if name not in objects and not _is_system_object(name):
                yield Issue(json_path((*at, "objects", name)), f"unknown object '{name}'")
        for key in permission_set.fields:
            problem = _field_rule_problem(key, objects)
            if problem:
                yield Issue(json_path((*at, "fields", key)), problem)
        for rule, policy in enumerate(permission_set.row_level_security or ()):
            rule_at = (*at, "rowLevelSecurity", rule)
            if policy.object not in objects and not _is_system_object(policy.object):
                yield Issue(json_path((*rule_at, "object")), f"unknown object '{policy.object}'")
            for position in policy.positions or ():
                if position not in positions:
                    yield Issue(
                        json_path((*rule_at, "positions")),
                        f"position '{position}' is not defined in `positions`",
                    )


def _field_rule_problem(key: str, objects: dict[str, Object | None]) -> str | None:
    object_name, dot, field_name = key.partition(".")
    if not dot or not field_name:
        return f"field rule key '{key}' must be written 'object.field'"
    if object_name not in objects:
        return None if _is_system_object(object_name) else f"unknown object '{object_name}'"
    obj = objects[object_name]
    if obj is not None and field_name not in obj.fields and field_name not in SYSTEM_FIELD_NAMES:
        return f"object '{object_name}' has no field '{field_name}'"
    return None


def _sharing_rule_issues(parts: Parts, objects: dict[str, Object | None]) -> Iterator[Issue]:
    positions = _position_names(parts)
    for index, rule in enumerate(parts.sharing_rules):
        if rule is None:
            continue
        at = ("sharingRules", index)
        if rule.object not in objects and not _is_system_object(rule.object):
            yield Issue(json_path((*at, "object")), f"unknown object '{rule.object}'")
        for key, recipient in (("sharedWith", rule.shared_with), ("ownedBy", rule.owned_by)):
            if recipient is not None and recipient.type == "position":
                if recipient.value not in positions:
                    yield Issue(
                        json_path((*at, key, "value")),
                        f"position '{recipient.value}' is not defined in `positions`",
                    )
