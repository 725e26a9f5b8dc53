"""A Kernel: one project version compiled once into models and per-object read/write plans.

Everything the request path needs about an object (columns to read, converters, search
fields, relations) is computed here at build time, so a warm request does no metadata
work: no artifact parsing, no validation, no model building.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from apps.artifact.load import LoadedArtifact, load_artifact
from apps.artifact.models import Artifact, Field, Object
from apps.fieldtypes.base import FieldType
from apps.fieldtypes.registry import get_type
from apps.kernel.exceptions import ObjectNotFound
from apps.kernel.factory import SYSTEM_FIELDS, USER_REFERENCES, build_models


@dataclass(frozen=True)
class FieldRuntime:
    """One artifact field bound to its type."""

    name: str
    definition: Field
    type: FieldType
    stored: bool
    # Target object of lookup/master_detail/tree; None for users and non-relations.
    target: str | None = None

    @property
    def is_user_reference(self) -> bool:
        return self.type.relational and self.target is None


@dataclass
class ObjectRuntime:
    """An object's compiled plan: model, fields, and the column lists of the hot path."""

    name: str
    definition: Object
    model: type[models.Model]
    fields: dict[str, FieldRuntime]
    # Stored columns returned to clients, in artifact order, system fields first.
    read_columns: tuple[str, ...] = ()
    # (column, converter) for columns whose stored value needs to_wire().
    converters: tuple[tuple[str, Callable[[Any], Any]], ...] = ()
    search_columns: tuple[str, ...] = ()
    writable: frozenset[str] = frozenset()
    computed: tuple[str, ...] = ()
    display_field: str | None = None
    # Relational fields pointing at another object: field name -> target object.
    lookups: dict[str, str] = field(default_factory=dict)
    autonumbers: tuple[str, ...] = ()
    # API field name -> model attribute (`customer` -> `customer_id` for foreign keys).
    attnames: dict[str, str] = field(default_factory=dict)
    # Lazily compiled plans of the upper layers (formula programs, ...), built once.
    plans: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.definition.label or self.name


_DATETIME = get_type("datetime")
_TIMESTAMPS = {name: Field(name=name, type="datetime") for name in ("created_at", "updated_at")}


def compile_object(obj: Object, model: type[models.Model]) -> ObjectRuntime:
    fields: dict[str, FieldRuntime] = {}
    for name, definition in obj.fields.items():
        if name in SYSTEM_FIELDS:
            continue
        field_type = get_type(definition.type)
        target = None
        if field_type.relational and definition.type != "user":
            if definition.reference not in USER_REFERENCES:
                target = definition.reference
        stored = field_type.storage != "none"
        fields[name] = FieldRuntime(name, definition, field_type, stored, target)

    read_columns = list(SYSTEM_FIELDS)
    # System timestamps use the datetime wire format (`...T09:30:00.000Z`) like datetime fields.
    converters = [(name, _bind(_DATETIME.to_wire, _TIMESTAMPS[name])) for name in _TIMESTAMPS]
    for name, runtime in fields.items():
        if not runtime.stored or not runtime.type.returned:
            continue
        read_columns.append(name)
        if runtime.type.needs_wire_conversion:
            definition, to_wire = runtime.definition, runtime.type.to_wire
            converters.append((name, _bind(to_wire, definition)))
    search = [
        name
        for name, runtime in fields.items()
        if runtime.stored and runtime.definition.searchable and runtime.type.text_searchable
    ]
    display = obj.display_field
    if not search and display in fields and fields[display].type.text_searchable:
        search = [display]
    return ObjectRuntime(
        name=obj.name,
        definition=obj,
        model=model,
        fields=fields,
        read_columns=tuple(read_columns),
        converters=tuple(converters),
        search_columns=tuple(search),
        writable=frozenset(n for n, r in fields.items() if r.stored and not r.type.computed),
        computed=tuple(n for n, r in fields.items() if not r.stored),
        display_field=display,
        lookups={n: r.target for n, r in fields.items() if r.target},
        autonumbers=tuple(n for n, r in fields.items() if r.definition.type == "autonumber"),
        attnames={f.name: f.attname for f in model._meta.concrete_fields},
    )


def _bind(to_wire: Callable[[Any, Any], Any], definition: Field) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return None if value is None else to_wire(definition, value)

    return convert


class Kernel:
    """One (project, version): isolated model registry plus compiled object plans."""

    def __init__(
        self, project_name: str, version_id: int, version_number: int, loaded: LoadedArtifact
    ) -> None:
        started = time.perf_counter()
        self.project_name = project_name
        self.version_id = version_id
        self.version_number = version_number
        self.loaded = loaded
        self.artifact: Artifact = loaded.artifact
        self.apps, built = build_models(project_name, self.artifact.objects)
        self.objects: dict[str, ObjectRuntime] = {
            obj.name: compile_object(obj, built[obj.name]) for obj in self.artifact.objects
        }
        # Children per parent object: (child object, lookup field) for summaries and cascades.
        self.children: dict[str, list[tuple[str, str]]] = {}
        for runtime in self.objects.values():
            for field_name, target in runtime.lookups.items():
                self.children.setdefault(target, []).append((runtime.name, field_name))
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def from_raw(
        cls, project_name: str, version_id: int, version_number: int, raw: dict[str, Any]
    ) -> Kernel:
        return cls(project_name, version_id, version_number, load_artifact(raw))

    def object(self, name: str) -> ObjectRuntime:
        try:
            return self.objects[name]
        except KeyError:
            raise ObjectNotFound(name) from None

    def __repr__(self) -> str:
        return f"<Kernel {self.project_name} v{self.version_number} ({len(self.objects)} objects)>"
