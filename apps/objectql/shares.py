"""Manual per-record shares: list, grant and revoke, always through the actor's row scope.

A share is one row of the object's django-guardian grant table (apps.kernel.grants): one
user, one permission (`view_<object>` for read, `change_<object>` for edit), at most one row
per (user, record). A record outside the actor's read scope answers 404, as on every
route; only the record's owner, a superuser or someone who may transfer the object's
records (allowTransfer, modifyAllRecords) may see or change its shares, others get 403.
Each grant and revoke writes its audit row (`share.granted`, `share.revoked`) in the same
transaction; deleting the record deletes its grants (foreign key, on_delete=CASCADE).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from apps.audit import record as audit
from apps.fieldtypes.types.datetime import to_iso_z
from apps.kernel.grants import ACCESS_LEVELS, codename, grant_model, level_of
from apps.kernel.kernel import ObjectRuntime
from apps.objectql.exceptions import Forbidden, RecordNotFound, ValidationFailed
from apps.objectql.query import readable_access, scoped
from apps.objectql.transactions import write_transaction
from apps.objectql.validate import problem
from apps.projects.context import Context
from apps.security.access import forget_compiled_access
from apps.security.models import Membership

SHARE_COLUMNS = ("id", "user_id", "user__email", "permission__codename", "granted_by", "granted_at")


def list_shares(ctx: Context, object_name: str, record_id: str) -> dict[str, Any]:
    """`{object, id, shares}`: the record's shares, oldest first."""
    runtime, row = _shared_record(ctx, object_name, record_id)
    grants = grant_model(runtime.model)
    rows = (
        grants._base_manager.filter(content_object_id=row["id"])
        .order_by("granted_at", "pk")
        .values(*SHARE_COLUMNS)
        if grants is not None
        else []
    )
    return {"object": object_name, "id": row["id"], "shares": [_wire(r) for r in rows]}


def grant_share(
    ctx: Context, object_name: str, record_id: str, data: Any
) -> tuple[dict[str, Any], bool]:
    """Share the record with `data["user"]` (email or id) at `data["accessLevel"]`.

    Returns (`{object, id, share}`, created). Sharing again with the same user changes the
    level of the existing share (created False); the same level again changes nothing."""
    with write_transaction():
        runtime, row = _shared_record(ctx, object_name, record_id, lock=True)
        grants = grant_model(runtime.model)
        if grants is None:
            raise ValidationFailed(
                f"{object_name} records are shared by their sharingModel "
                f"({runtime.definition.sharing_model}); they take no manual shares"
            )
        user, level = _clean(ctx, data, row)
        existing = grants._base_manager.filter(content_object_id=row["id"], user_id=user["id"])
        share = existing.select_related("permission").order_by("pk").first()
        previous = level_of(share.permission.codename) if share is not None else None
        if previous == level:
            return _answer(object_name, row, existing.filter(pk=share.pk)), False
        permission = _permission(runtime, level)
        now = timezone.now()
        if share is None:
            share = grants(
                user_id=user["id"],
                permission=permission,
                content_object=runtime.model(pk=row["id"]),
                granted_by=ctx.user_id,
                granted_at=now,
            )
            share.save(force_insert=True)  # guardian checks the permission's content type
        else:
            share.permission = permission
            share.content_object = runtime.model(pk=row["id"])
            share.granted_by, share.granted_at = ctx.user_id, now
            share.save(update_fields=["permission", "granted_by", "granted_at"])
        details: dict[str, Any] = {"share": share.pk, "user": user, "accessLevel": level}
        if previous is not None:
            details["previous"] = previous
        audit.record(
            ctx, "share.granted", object_name=object_name, record_id=row["id"], details=details
        )
        _forget_access()
        return _answer(object_name, row, existing.filter(pk=share.pk)), previous is None


def revoke_share(ctx: Context, object_name: str, record_id: str, share_id: str) -> dict[str, Any]:
    """Delete one share of the record; `{success: true}`."""
    with write_transaction():
        runtime, row = _shared_record(ctx, object_name, record_id, lock=True)
        grants = grant_model(runtime.model)
        share = None
        if grants is not None and share_id.isascii() and share_id.isdigit():
            rows = grants._base_manager.filter(pk=int(share_id), content_object_id=row["id"])
            share = rows.values(*SHARE_COLUMNS).first()
        if share is None:
            raise RecordNotFound(f"{object_name} '{row['id']}' has no share '{share_id}'")
        grants._base_manager.filter(pk=share["id"]).delete()
        _forget_access()
        audit.record(
            ctx,
            "share.revoked",
            object_name=object_name,
            record_id=row["id"],
            details={
                "share": share["id"],
                "user": {"id": share["user_id"], "email": share["user__email"]},
                "accessLevel": level_of(share["permission__codename"]),
            },
        )
    return {"success": True}


def _shared_record(
    ctx: Context, object_name: str, record_id: str, lock: bool = False
) -> tuple[ObjectRuntime, dict[str, Any]]:
    """The record (id, owner) if the actor may read it (else 404) and manage its shares
    (else 403); locked for the transaction when `lock` (grants of one record queue)."""
    runtime = ctx.kernel.object(object_name)
    access = readable_access(ctx, runtime)
    rows = scoped(ctx, runtime, access).filter(pk=str(record_id))
    if lock:
        rows = rows.select_for_update()
    row = rows.values("id", "owner_id").first()
    if row is None:
        raise RecordNotFound(f"{object_name} '{record_id}' not found")
    is_owner = ctx.user_id is not None and row["owner_id"] == ctx.user_id
    if not (is_owner or ctx.is_superuser or access.can_transfer):
        raise Forbidden(
            f"only the owner of this {object_name} record or someone who may transfer "
            f"{object_name} records may manage its shares"
        )
    return runtime, row


def _clean(ctx: Context, data: Any, row: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """({id, email} of the recipient, access level), or VALIDATION_FAILED naming the fields."""
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object")
    problems = []
    user = None
    if data.get("user") in (None, ""):
        problems.append(problem("user", "required", "user (email or id) is required"))
    else:
        user, message = _recipient(ctx, data["user"], row)
        if message is not None:
            problems.append(problem("user", message[0], message[1]))
    level = data.get("accessLevel")
    if level is None:
        problems.append(problem("accessLevel", "required", "accessLevel is required"))
    elif not isinstance(level, str) or level not in ACCESS_LEVELS:
        problems.append(problem("accessLevel", "invalid_choice", "accessLevel is read or edit"))
    if problems:
        raise ValidationFailed("validation failed", fields=problems)
    return user, level  # type: ignore[return-value]


def _recipient(
    ctx: Context, value: Any, row: dict[str, Any]
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """The user named by an email or id, and the problem with sharing to them, if any."""
    users = get_user_model()._base_manager
    if isinstance(value, int) and not isinstance(value, bool):
        found = list(users.filter(pk=value).values("pk", "email")[:1])
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        found = list(users.filter(pk=int(value)).values("pk", "email")[:1])
    elif isinstance(value, str) and "@" in value:
        found = list(
            users.filter(email__iexact=value.strip()).order_by("pk").values("pk", "email")[:2]
        )
    else:
        return None, ("invalid_type", "user is an email address or a user id")
    if not found:
        return None, ("invalid_reference", f"no user with email or id {value}")
    if len(found) > 1:
        return None, ("ambiguous", f"more than one user has the email {value}; use the id")
    user = {"id": found[0]["pk"], "email": found[0]["email"]}
    if not Membership.objects.filter(project_id=ctx.project_id, user_id=user["id"]).exists():
        return None, (
            "not_a_member",
            f"{user['email'] or user['id']} is not a member of this project",
        )
    if user["id"] == row["owner_id"]:
        return None, ("is_owner", "the record's owner already has full access")
    return user, None


def _permission(runtime: ObjectRuntime, level: str) -> Permission:
    """The guardian permission of `level` on the object. The first share of an object
    creates its content type and both permissions (view, change); later ones find them."""
    opts = runtime.model._meta
    names = {codename(each, runtime.name): each for each in ACCESS_LEVELS}
    found = {
        names[p.codename]: p
        for p in Permission.objects.select_related("content_type").filter(
            content_type__app_label=opts.app_label,
            content_type__model=opts.model_name,
            codename__in=names,
        )
    }
    if len(found) < len(names):
        content_type, _ = ContentType.objects.get_or_create(
            app_label=opts.app_label, model=opts.model_name
        )
        for name, each in names.items():
            if each not in found:
                verb = ACCESS_LEVELS[each]
                found[each], _ = Permission.objects.get_or_create(
                    content_type=content_type,
                    codename=name,
                    defaults={"name": f"Can {verb} {runtime.label}"[:255]},
                )
    permission = found[level]
    if ContentType.objects.get_for_model(runtime.model).pk != permission.content_type_id:
        # The cache kept a content type from a rolled-back transaction: guardian's save()
        # compares the record's (cached) content type with the permission's.
        ContentType.objects.clear_cache()
    return permission


def _answer(object_name: str, row: dict[str, Any], share: models.QuerySet) -> dict[str, Any]:
    return {"object": object_name, "id": row["id"], "share": _wire(share.values(*SHARE_COLUMNS)[0])}


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "user": {"id": row["user_id"], "email": row["user__email"]},
        "accessLevel": level_of(row["permission__codename"]),
        "grantedBy": row["granted_by"],
        "grantedAt": to_iso_z(row["granted_at"]) if row["granted_at"] else None,
    }


def _forget_access() -> None:
    """Compiled scopes know whether a user holds shares: forget them now and at commit."""
    forget_compiled_access()
    transaction.on_commit(forget_compiled_access)
