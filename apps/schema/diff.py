"""Compare the published artifact with a candidate: a list of typed changes."""

from __future__ import annotations

from dataclasses import dataclass

from apps.artifact.models import Artifact, Field, Object
from apps.fieldtypes.registry import get_type
from apps.kernel.grants import is_shareable

# Top-level sections whose changes need no DDL.
METADATA_SECTIONS = (
    "manifest", "apps", "views", "pages", "dashboards", "reports", "datasets", "actions",
    "flows", "jobs", "hooks", "functions", "webhooks", "translations", "i18n", "permissions",
    "positions", "sharing_rules", "email_templates", "capabilities", "apis", "requires",
)  # fmt: skip

# Field attributes that change the column itself (the rest is metadata).
COLUMN_ATTRIBUTES = (
    "type",
    "multiple",
    "reference",
    "delete_behavior",
    "precision",
    "scale",
    "unique",
)


@dataclass(frozen=True)
class Change:
    """One difference. kind: create_object, drop_object, add_field, drop_field, alter_field,
    create_shares, drop_shares (the manual share table follows the sharingModel), metadata,
    seed_data."""

    kind: str
    object: str = ""
    field: str = ""
    detail: str = ""


def _stored(field: Field) -> bool:
    return get_type(field.type).storage != "none"


def _column(field: Field) -> tuple:
    return tuple(getattr(field, name) for name in COLUMN_ATTRIBUTES)


def diff_objects(old: Object, new: Object) -> list[Change]:
    changes = []
    for name, field in new.fields.items():
        before = old.fields.get(name)
        if before is None:
            kind = "add_field" if _stored(field) else "metadata"
            changes.append(Change(kind, new.name, name, f"add {field.type} field"))
        elif _stored(before) != _stored(field):
            kind = "add_field" if _stored(field) else "drop_field"
            changes.append(Change(kind, new.name, name, f"{before.type} -> {field.type}"))
        elif _stored(field) and _column(before) != _column(field):
            changes.append(Change("alter_field", new.name, name, _describe(before, field)))
        elif before.model_dump() != field.model_dump():
            changes.append(Change("metadata", new.name, name, "field properties"))
    for name, field in old.fields.items():
        if name not in new.fields:
            kind = "drop_field" if _stored(field) else "metadata"
            changes.append(Change(kind, new.name, name, f"remove {field.type} field"))
    if is_shareable(old) != is_shareable(new):
        kind, what = (
            ("create_shares", "manual share table")
            if is_shareable(new)
            else ("drop_shares", "manual share table and every share in it")
        )
        sharing = f"sharingModel {old.sharing_model} -> {new.sharing_model}"
        changes.append(Change(kind, new.name, detail=f"{what} ({sharing})"))
    old_rest = old.model_dump(exclude={"fields"})
    if old_rest != new.model_dump(exclude={"fields"}):
        changes.append(Change("metadata", new.name, "", "object properties"))
    return changes


def _describe(old: Field, new: Field) -> str:
    parts = [
        f"{attr} {getattr(old, attr)!r} -> {getattr(new, attr)!r}"
        for attr in COLUMN_ATTRIBUTES
        if getattr(old, attr) != getattr(new, attr)
    ]
    return ", ".join(parts)


def diff(old: Artifact | None, new: Artifact) -> list[Change]:
    """Every change that turns `old` (None: nothing published) into `new`."""
    old_objects = {o.name: o for o in old.objects} if old else {}
    new_objects = {o.name: o for o in new.objects}
    changes: list[Change] = []
    for name, obj in new_objects.items():
        if name not in old_objects:
            changes.append(Change("create_object", name, detail=f"{len(obj.fields)} fields"))
        else:
            changes.extend(diff_objects(old_objects[name], obj))
    for name in old_objects:
        if name not in new_objects:
            changes.append(Change("drop_object", name, detail="table and all its rows"))
    sections = [
        s
        for s in METADATA_SECTIONS
        if (getattr(old, s, None) if old else None) != getattr(new, s, None)
    ]
    if old is not None and sections:
        changes.append(Change("metadata", detail=", ".join(sections)))
    if (old.data if old else []) != new.data and new.data:
        changes.append(
            Change("seed_data", detail=f"{sum(len(d.records) for d in new.data)} seed records")
        )
    return changes
