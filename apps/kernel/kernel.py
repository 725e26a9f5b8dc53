"""A Kernel: one project version compiled once into models and per-object read/write plans.

Everything the request path needs about an object (columns to read, converters, search
fields, relations) is computed here at build time, so a warm request does no metadata
work: no artifact parsing, no validation, no model building.

It is also the project's micro-kernel: services (`provide`, `call`), functions named by
the artifact (`register_function`), event subscriptions (`subscribe`, `wants`) and
per-object validators, filled at the end of the build by the upper apps' build hooks
(apps.kernel.extensions) and then by the plugins (apps.kernel.plugins).
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
from apps.kernel.budgets import activate
from apps.kernel.events import broker
from apps.kernel.exceptions import ObjectNotFound
from apps.kernel.extensions import run_build_hooks
from apps.kernel.factory import SYSTEM_FIELDS, USER_REFERENCES, build_models
from apps.kernel.plugins import load_plugins
from apps.kernel.services import Provider, ServiceRegistry
from apps.kernel.topics import Handler, Subscription, TopicTrie
from apps.projects.context import Context

# validator(ctx, runtime, event, record, previous): raise ValidationFailed to refuse.
Validator = Callable[..., None]


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
    # Called by objectql inside every create and update transaction before the write:
    # validator(ctx, runtime, event "insert"|"update", record, previous); see write.py.
    validators: list[Validator] = field(default_factory=list)

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
        self.services = ServiceRegistry()
        self.functions: dict[str, Callable[..., Any]] = {}
        self.topics = TopicTrie()
        self.plugins: list[str] = []  # plugins registered into this kernel
        self.plugin_errors: list[dict[str, str]] = []  # {plugin, error} of those that failed
        run_build_hooks(self)
        load_plugins(self)
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def from_raw(
        cls, project_name: str, version_id: int, version_number: int, raw: dict[str, Any]
    ) -> Kernel:
        return cls(project_name, version_id, version_number, load_artifact(raw))

    def provide(
        self,
        name: str,
        handler: Callable[[Context, Any], Any],
        *,
        input: type | None = None,
        output: type | None = None,
    ) -> Provider:
        """Provide (or replace, at runtime) the service `name`; see apps.kernel.services."""
        return self.services.provide(name, handler, input=input, output=output)

    def call(self, ctx: Context, name: str, payload: Any = None, *, budget: Any = None) -> Any:
        """Call a service in a child of `ctx`: its budgets apply (plus `budget`, for this
        branch only, an apps.kernel.budgets.Budget), logs and errors name the child."""
        if ctx.kernel is self:
            child = ctx.fork(budget=budget)
        else:
            child = ctx.fork(budget=budget, kernel=self)
        with activate(child):
            return self.services.call(child, name, payload)

    def register_function(self, name: str, fn: Callable[..., Any]) -> None:
        """A function the artifact names (`functions`, flow `script` nodes, action
        `type: script` targets); registering the name again replaces it."""
        self.functions[name] = fn

    def function(self, name: str) -> Callable[..., Any]:
        try:
            return self.functions[name]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none is registered"
            raise LookupError(f"unknown function '{name}'; known: {known}") from None

    def subscribe(self, pattern: str, handler: Handler, name: str = "") -> Subscription:
        """Subscribe to this project's events (`data.*.created`, `data.crm_account.*`,
        `data.#`); handler(event) runs after the emitting transaction commits."""
        return self.topics.subscribe(pattern, handler, name)

    def unsubscribe(self, subscription: Subscription) -> bool:
        return self.topics.unsubscribe(subscription.id)

    def wants(self, topic: str) -> bool:
        """Whether an event on `topic` would reach any subscriber (this kernel's or a
        process-wide one): emitters skip the outbox write when not."""
        if len(self.topics) and self.topics.match(topic):
            return True
        return broker.has_subscribers(topic)

    def object(self, name: str) -> ObjectRuntime:
        try:
            return self.objects[name]
        except KeyError:
            raise ObjectNotFound(name) from None

    def __repr__(self) -> str:
        return f"<Kernel {self.project_name} v{self.version_number} ({len(self.objects)} objects)>"
