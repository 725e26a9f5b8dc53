"""Run a plan's DDL with Django's schema editor on throwaway from/to models.

Shareable objects (apps.kernel.grants) also have a share grant table: dropped before its
object, and created after the operations for every shareable object that lacks one (new
objects, sharingModel changes, databases from before grant tables).

The editor's own transaction holds every statement (SQLite and PostgreSQL both have
transactional DDL), so a failure leaves the tables as they were. The caller passes a
`then` callback that runs inside the same transaction (publishing the version).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

from apps.artifact.models import Artifact, Object
from apps.kernel.factory import build_models
from apps.kernel.grants import grant_model, is_shareable
from apps.schema.plan import Operation

DDL_KINDS = frozenset(
    {
        "create_object",
        "drop_object",
        "add_field",
        "drop_field",
        "alter_field",
        "create_shares",
        "drop_shares",
    }
)


class SchemaState:
    """The objects as the database holds them, evolving one operation at a time."""

    def __init__(self, project_name: str, artifact: Artifact | None) -> None:
        self.project_name = project_name
        self.objects: dict[str, Object] = {o.name: o for o in artifact.objects} if artifact else {}

    def models(self) -> dict[str, type]:
        return build_models(self.project_name, list(self.objects.values()), managed=True)[1]

    def with_field(self, object_name: str, field_name: str, field: Any | None) -> None:
        obj = self.objects[object_name]
        fields = dict(obj.fields)
        if field is None:
            fields.pop(field_name, None)
        else:
            fields[field_name] = field
        self.objects[object_name] = obj.model_copy(update={"fields": fields})


def apply_plan(
    project_name: str,
    old: Artifact | None,
    new: Artifact,
    plan: list[Operation],
    then: Callable[[], None] | None = None,
) -> None:
    operations = [op for op in plan if op.kind in DDL_KINDS]
    state = SchemaState(project_name, old)
    new_objects = {o.name: o for o in new.objects}
    with connection.schema_editor(atomic=True) as editor:
        created = [op.object for op in operations if op.kind == "create_object"]
        if created:
            for name in created:
                state.objects[name] = new_objects[name]
            models = state.models()
            for name in created:
                editor.create_model(models[name])
        for op in operations:
            if op.kind == "add_field":
                state.with_field(op.object, op.field, new_objects[op.object].fields[op.field])
                model = state.models()[op.object]
                editor.add_field(model, model._meta.get_field(op.field))
            elif op.kind == "alter_field":
                before = state.models()[op.object]
                state.with_field(op.object, op.field, new_objects[op.object].fields[op.field])
                after = state.models()[op.object]
                editor.alter_field(
                    after,
                    before._meta.get_field(op.field),
                    after._meta.get_field(op.field),
                    strict=False,
                )
            elif op.kind == "drop_field":
                model = state.models()[op.object]
                editor.remove_field(model, model._meta.get_field(op.field))
                state.with_field(op.object, op.field, None)
            elif op.kind == "drop_object":
                model = state.models()[op.object]
                _drop_grants(editor, model)
                editor.delete_model(model)
                del state.objects[op.object]
            elif op.kind in ("create_shares", "drop_shares"):
                if op.kind == "drop_shares":
                    _drop_grants(editor, state.models()[op.object])
                sharing_model = new_objects[op.object].sharing_model
                state.objects[op.object] = state.objects[op.object].model_copy(
                    update={"sharing_model": sharing_model}
                )
        _create_missing_grants(editor, state)
        if then is not None:
            then()


def _drop_grants(editor: Any, model: type) -> None:
    grants = grant_model(model)
    if grants is not None and grants._meta.db_table in _tables(editor):
        editor.delete_model(grants)


def _create_missing_grants(editor: Any, state: SchemaState) -> None:
    if not any(is_shareable(obj) for obj in state.objects.values()):
        return
    tables = _tables(editor)
    for model in state.models().values():
        grants = grant_model(model)
        if grants is not None and grants._meta.db_table not in tables:
            editor.create_model(grants)


def _tables(editor: Any) -> set[str]:
    with editor.connection.cursor() as cursor:
        return set(editor.connection.introspection.table_names(cursor))
