"""Model factory: turns an artifact's objects into Django model classes in an isolated Apps.

The generated classes are `managed=False` (DDL is apps.schema's job), live only in the
kernel's own `Apps` registry (never the global one) and are read-only after the build.
Physical names come from immutable keys: table `<project>__<object>`, column = field name.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.migrations.state import AppConfigStub

from apps.fieldtypes.base import Relation
from apps.fieldtypes.registry import get_type
from apps.fieldtypes.types._relation import USER_REFERENCES
from apps.kernel.exceptions import KernelError
from apps.kernel.grants import add_grant_models

SYSTEM_FIELDS = ("id", "owner_id", "created_by", "created_at", "updated_by", "updated_at")
GENERATED_MODULE = "apps.kernel.generated"
INDEXED_TYPES = frozenset({"select", "radio"})


def new_record_id() -> str:
    """A fresh primary key: 32 hex characters."""
    return uuid.uuid4().hex


def table_name(project_name: str, object_name: str) -> str:
    return f"{project_name}__{object_name}"


def app_label(project_name: str) -> str:
    return f"osdyn_{project_name}"


def new_registry(project_name: str) -> Apps:
    """An empty registry for one project's models that also knows the user model.

    App config stubs (as migrations' StateApps uses) make `get_models()` see the
    generated models, which reverse relations and so cascades/restricts rely on.
    """
    user_model = get_user_model()
    registry = Apps(
        installed_apps=[
            AppConfigStub(app_label(project_name)),
            AppConfigStub(user_model._meta.app_label),
        ]
    )
    registry.register_model(user_model._meta.app_label, user_model)
    return registry


def system_fields() -> dict[str, models.Field]:
    return {
        "id": models.CharField(primary_key=True, max_length=64, default=new_record_id),
        "owner_id": models.BigIntegerField(null=True, blank=True, db_index=True),
        "created_by": models.BigIntegerField(null=True, blank=True),
        "created_at": models.DateTimeField(null=True, blank=True, db_index=True),
        "updated_by": models.BigIntegerField(null=True, blank=True),
        "updated_at": models.DateTimeField(null=True, blank=True),
    }


def relation_for(project_name: str, field: Any) -> Relation | None:
    """The target and delete rule of a relational field (None for other types)."""
    field_type = get_type(field.type)
    if not field_type.relational:
        return None
    on_delete = field_type.on_delete_for(field)
    reference = field.reference
    if field.type == "user" or reference in USER_REFERENCES:
        user_model = get_user_model()
        return Relation(to=user_model, on_delete=models.DO_NOTHING, db_constraint=False)
    return Relation(to=f"{app_label(project_name)}.{reference}", on_delete=on_delete)


def model_fields(project_name: str, obj: Any) -> dict[str, models.Field]:
    """Every Django field of one object: system fields first, then stored artifact fields."""
    fields = system_fields()
    for name, field in obj.fields.items():
        if name in SYSTEM_FIELDS:
            continue  # an artifact may redeclare a system field; the system column wins
        field_type = get_type(field.type)
        django_field = field_type.model_field(field, relation_for(project_name, field))
        if django_field is not None:
            if field.type in INDEXED_TYPES and not django_field.unique:
                django_field.db_index = True  # the usual list filter (status, stage, ...)
            fields[name] = django_field
    return fields


def build_model(
    registry: Apps,
    project_name: str,
    obj: Any,
    fields: dict[str, models.Field] | None = None,
    managed: bool = False,
) -> type[models.Model]:
    """One model class registered in `registry`. `fields` overrides the full field set.

    Served models are unmanaged; the schema applier builds throwaway `managed=True`
    copies because Django's schema editor only creates indexes for managed models."""
    meta = type(
        "Meta",
        (),
        {
            "apps": registry,
            "app_label": app_label(project_name),
            "db_table": table_name(project_name, obj.name),
            "managed": managed,
            "default_permissions": (),
        },
    )
    attrs: dict[str, Any] = {"__module__": GENERATED_MODULE, "Meta": meta}
    attrs.update(fields if fields is not None else model_fields(project_name, obj))
    return type(obj.name, (models.Model,), attrs)


def build_models(
    project_name: str, objects: list[Any], managed: bool = False
) -> tuple[Apps, dict[str, type]]:
    """All models of an artifact in a fresh registry, with every relation resolved.

    Shareable objects also get their share grant model (apps.kernel.grants) in the same
    registry; `grants.grant_model(model)` finds it."""
    registry = new_registry(project_name)
    built = {obj.name: build_model(registry, project_name, obj, managed=managed) for obj in objects}
    add_grant_models(objects, built)
    pending = registry._pending_operations
    if pending:
        missing = sorted({f"{label}.{name}" for label, name in pending})
        raise KernelError(f"unresolved references to {', '.join(missing)}")
    # The user model was lent to resolve user fields. Left in, the kernel's relation graph
    # would overwrite User._meta's reverse relations (and so what deleting a user cascades
    # to) with the kernel's own.
    user_meta = get_user_model()._meta
    registry.all_models[user_meta.app_label].pop(user_meta.model_name, None)
    registry.clear_cache()
    return registry, built
