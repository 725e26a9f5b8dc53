"""Manual share grant tables: one django-guardian direct foreign-key model per shareable object.

An object is shareable when its sharingModel leaves some readers or writers out (private,
public_read): a manual share can then add something. public_read_write objects need no
grants, controlled_by_parent objects follow their master's shares, so neither gets a table.

The grant model subclasses guardian's `UserObjectPermissionBase` (user, permission,
content_object) and lives in the SAME kernel registry as the object model, with
`content_object = ForeignKey(<object>, on_delete=CASCADE)`: deleting a record through
Django's collector deletes its grants, and guardian's own lookups (reverse relation from
the object model) find the table. Table `<project>__<object>__share`, model name
`<object>__share`. One row per (user, record): permission `view_<object>` (read) or
`change_<object>` (edit).

What of guardian works on these tables: the models and their managers, so
`assign_perm`/`remove_perm` and `get_objects_for_user` (forward lookups from the grant
model). What does not: `ObjectPermissionChecker` (`user.has_perm(perm, obj)`, `get_perms`)
queries backwards from auth.Permission, which would need every kernel's grant models in
the global Permission model's reverse relations. The runtime calls none of guardian's
helpers: the scope is one subquery (apps.security.shares); grants and revokes are rows
written with their audit event (apps.objectql.shares). Rows written by guardian's
assign_perm are honoured but carry no grantedBy and no audit event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from apps.kernel.exceptions import KernelError

SHAREABLE_SHARING_MODELS = frozenset({"private", "public_read", "read"})
GRANT_SUFFIX = "__share"
# Reverse accessor on the object model. Artifact names start with a letter, so a leading
# underscore cannot clash with a field. Not hidden ("+"): guardian finds direct grant
# models through the object model's reverse relations.
RELATED_NAME = "_os_share_grants"
ACCESS_LEVELS = {"read": "view", "edit": "change"}


def is_shareable(obj: Any) -> bool:
    """True when the object's sharingModel lets a manual share add access."""
    return (obj.sharing_model or "private") in SHAREABLE_SHARING_MODELS


def grant_model_name(object_name: str) -> str:
    return f"{object_name}{GRANT_SUFFIX}"


def codename(level: str, object_name: str) -> str:
    """Guardian permission codename of an access level: `view_<object>` / `change_<object>`."""
    return f"{ACCESS_LEVELS[level]}_{object_name}"


def level_of(codename_value: str) -> str:
    """The access level ("read" or "edit") of a grant's permission codename."""
    return "edit" if codename_value.startswith("change_") else "read"


def codenames_for(level: str, object_name: str) -> list[str]:
    """Codenames that grant at least `level`: read is matched by view or change grants."""
    if level == "edit":
        return [codename("edit", object_name)]
    return [codename("read", object_name), codename("edit", object_name)]


@contextmanager
def _permission_resolvable(registry: Apps) -> Iterator[None]:
    """Let the grant models' foreign key to auth.Permission resolve in the kernel registry,
    then take Permission out again: a registry computes the reverse relations of every
    model it lists, and would overwrite those of the global Permission class."""
    label, name = Permission._meta.app_label, Permission._meta.model_name
    if name in registry.all_models[label]:
        yield
        return
    registry.register_model(label, Permission)
    try:
        yield
    finally:
        del registry.all_models[label][name]
        registry.clear_cache()


def build_grant_model(target: type[models.Model]) -> type[models.Model]:
    """The grant model of one object model, registered in the object model's registry.

    Everything (registry, app label, managed flag, table) derives from `target`, so the
    schema applier's throwaway managed models get managed grant models too."""
    opts = target._meta
    meta = type(
        "Meta",
        (),
        {
            "apps": opts.apps,
            "app_label": opts.app_label,
            "db_table": f"{opts.db_table}{GRANT_SUFFIX}",
            "managed": opts.managed,
            "default_permissions": (),
            "unique_together": [("user", "permission", "content_object")],
        },
    )
    attrs: dict[str, Any] = {
        "__module__": target.__module__,
        "Meta": meta,
        "id": models.BigAutoField(primary_key=True),
        # related_name "+": no reverse accessor on the global User/Permission classes (they
        # would keep every kernel alive). No database constraints to the global tables, as
        # for user fields: deleting a user, or flushing/truncating auth tables, must not be
        # blocked by a project's table; a grant whose permission is gone matches nothing.
        "user": models.ForeignKey(
            get_user_model(), on_delete=models.CASCADE, related_name="+", db_constraint=False
        ),
        "permission": models.ForeignKey(
            Permission, on_delete=models.CASCADE, related_name="+", db_constraint=False
        ),
        "content_object": models.ForeignKey(
            target, on_delete=models.CASCADE, related_name=RELATED_NAME
        ),
        "granted_by": models.BigIntegerField(null=True, blank=True),
        # Defaults let guardian's own assign_perm() insert rows too (granted_by unknown).
        "granted_at": models.DateTimeField(default=timezone.now),
    }
    return type(grant_model_name(opts.model_name), (UserObjectPermissionBase,), attrs)


def add_grant_models(objects: list[Any], built: dict[str, type]) -> dict[str, type]:
    """Grant models for every shareable object of `built`; object name -> grant model."""
    names = {obj.name for obj in objects}
    shareable = [obj for obj in objects if is_shareable(obj)]
    for obj in shareable:
        if grant_model_name(obj.name) in names:
            raise KernelError(
                f"object '{grant_model_name(obj.name)}' collides with the share table of "
                f"'{obj.name}'"
            )
    if not shareable:
        return {}
    with _permission_resolvable(built[shareable[0].name]._meta.apps):
        return {obj.name: build_grant_model(built[obj.name]) for obj in shareable}


def grant_model(model: type[models.Model]) -> type[models.Model] | None:
    """The grant model of an object model (None when the object is not shareable)."""
    opts = model._meta
    return opts.apps.all_models[opts.app_label].get(grant_model_name(opts.model_name))
