"""What one actor may do with one object: object rights, row scopes (Q) and field sets.

Everything compiles to ONE read scope and ONE write scope per (actor, object), used by
list, get, query, batch, expand, search and count alike: a record outside the read
scope is absent from lists and answers 404 on get/update/delete.

Layers (ObjectStack protocol 17), for a user who is not a superuser:
- object rights: the union of the permission sets that apply (assigned through the
  membership, plus every `isDefault` set); no set, no access;
- row scope: the object's `sharingModel` (private: owner; public_read; public_read_write;
  controlled_by_parent: the master record's scope), widened by criteria sharing rules,
  manual shares, `viewAllRecords`/`modifyAllRecords` and `readScope`/`writeScope: org`,
  then narrowed by the row-level security policies of the applying sets (`using`, for
  the user's positions);
- field sets: a field is readable (editable) when some set granting read (edit or
  create) on the object does not declare it unreadable (not editable); a reader edits
  only fields it reads, a create-only actor (a web form) the fields its sets allow.
Rules that cannot be compiled match nothing (fail closed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from apps.artifact.models import PermissionSet, RlsPolicy
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.projects.context import Context
from apps.security.principal import Principal, principal_of
from apps.security.rules import MATCH_ALL, MATCH_NOTHING, cel_to_q_or_nothing
from apps.security.schema_resolver import ObjectResolver
from apps.security.shares import share_scope

READ_ALL_MODELS = frozenset({"public_read", "public_read_write", "read", "read_write", "full"})
WRITE_ALL_MODELS = frozenset({"public_read_write", "read_write", "full"})
READ_OPERATIONS = frozenset({"select", "all"})
MAX_PARENT_DEPTH = 4


@dataclass(frozen=True)
class Access:
    """The compiled answer for (actor, object)."""

    can_read: bool
    can_create: bool
    can_edit: bool
    can_delete: bool
    can_transfer: bool
    read_scope: Q
    write_scope: Q
    readable: frozenset[str]
    editable: frozenset[str]
    # `check` expressions a written row must satisfy, per operation (insert/update).
    insert_check: Q | None = None
    update_check: Q | None = None
    # Human-readable reasons, for /security/explain.
    reasons: tuple[str, ...] = ()


_compiled: dict[tuple, tuple[float, Access]] = {}
_compiled_lock = threading.Lock()


def object_access(ctx: Context, runtime: ObjectRuntime, depth: int = 0) -> Access:
    """Access for the context's actor: per request on the context, and per process for
    OS_AUTH_CACHE_TTL seconds by (kernel, object, principal), so a warm request compiles
    nothing. Granting or revoking a share in this process forgets it at once."""
    cache = ctx.extra.setdefault("access", {})
    access = cache.get(runtime.name)
    if access is not None:
        return access
    principal = principal_of(ctx)
    key = (ctx.kernel.project_name, ctx.kernel.version_id, runtime.name, principal)
    entry = _compiled.get(key)
    now = time.monotonic()
    if entry is not None and now - entry[0] < settings.OS_AUTH_CACHE_TTL:
        access = entry[1]
    else:
        access = compile_access(ctx.kernel, runtime, principal, ctx, depth)
        with _compiled_lock:
            if len(_compiled) > 10_000:
                _compiled.clear()
            _compiled[key] = (now, access)
    cache[runtime.name] = access
    return access


def forget_compiled_access() -> None:
    """Drop every cached Access of this process (after a share changes)."""
    with _compiled_lock:
        _compiled.clear()


def full_access(runtime: ObjectRuntime, reason: str) -> Access:
    everything = frozenset(runtime.fields)
    return Access(
        True,
        True,
        True,
        True,
        True,
        MATCH_ALL,
        MATCH_ALL,
        everything,
        everything,
        reasons=(reason,),
    )


def applicable_sets(kernel: Kernel, principal: Principal) -> list[PermissionSet]:
    return [
        ps for ps in kernel.artifact.permissions
        if ps.is_default or ps.name in principal.permission_sets
    ]  # fmt: skip


# System permissions that make a member an administrator of the project's platform
# pages (jobs and workers of everyone, plugin errors, worker notifications).
SETUP_PERMISSIONS = frozenset({"setup.access"})


def holds_system_permission(
    kernel: Kernel, principal: Principal, permissions: frozenset[str] = SETUP_PERMISSIONS
) -> bool:
    """Superusers and system hold every permission; others through a permission set."""
    if principal.is_superuser or principal.is_system:
        return True
    return any(
        permissions.intersection(permission_set.system_permissions or ())
        for permission_set in applicable_sets(kernel, principal)
    )


def compile_access(
    kernel: Kernel,
    runtime: ObjectRuntime,
    principal: Principal,
    ctx: Context | None = None,
    depth: int = 0,
) -> Access:
    if principal.is_system:
        return full_access(runtime, "system context")
    if principal.is_superuser:
        return full_access(runtime, "superuser")
    sets = applicable_sets(kernel, principal)
    grants = [(ps, ps.objects[runtime.name]) for ps in sets if runtime.name in ps.objects]
    reasons = [
        f"permission set {ps.name}" + (" (default)" if ps.is_default else "") for ps, _ in grants
    ]
    if not grants:
        nothing = frozenset[str]()
        return Access(
            False,
            False,
            False,
            False,
            False,
            MATCH_NOTHING,
            MATCH_NOTHING,
            nothing,
            nothing,
            reasons=("no permission set grants this object",),
        )

    def any_grant(attribute: str) -> bool:
        return any(getattr(grant, attribute) for _, grant in grants)

    can_read = any_grant("allow_read") or any_grant("view_all_records")
    view_all = any_grant("view_all_records") or any_grant("modify_all_records")
    modify_all = any_grant("modify_all_records")
    # `readScope`/`writeScope: org` reach every row; `own` and the unit scopes (business
    # units and reporting lines are not modelled) add nothing to the sharing model.
    org_read = any(g.allow_read and g.read_scope == "org" for _, g in grants)
    org_write = any((g.allow_edit or g.allow_delete) and g.write_scope == "org" for _, g in grants)
    resolver = ObjectResolver(kernel, runtime, frozenset(runtime.fields))
    variables = principal.variables()

    read_scope, write_scope = sharing_scopes(kernel, runtime, principal, ctx, depth, reasons)
    rule_read, rule_write = sharing_rule_scopes(
        kernel, runtime, principal, resolver, variables, reasons
    )
    shared_read = share_scope(runtime, principal, "read")
    if shared_read is not MATCH_NOTHING:
        reasons.append("manual shares")
    read_scope = MATCH_ALL if view_all or org_read else _widen(read_scope, rule_read, shared_read)
    write_scope = (
        MATCH_ALL
        if modify_all or org_write
        else _widen(write_scope, rule_write, share_scope(runtime, principal, "edit"))
    )
    if view_all:
        reasons.append("viewAllRecords")
    if modify_all:
        reasons.append("modifyAllRecords")
    if org_read and not view_all:
        reasons.append("readScope org")
    if org_write and not modify_all:
        reasons.append("writeScope org")

    policies = [
        p
        for ps, _ in grants
        for p in ps.row_level_security or ()
        if _applies(p, runtime.name, principal)
    ]
    policies += [
        p
        for ps in sets
        if runtime.name not in ps.objects
        for p in ps.row_level_security or ()
        if _applies(p, runtime.name, principal)
    ]
    for policy in policies:
        if policy.using is not None and policy.operation in READ_OPERATIONS:
            read_scope &= _compile(policy.using.source, resolver, variables, reasons, policy)
        if policy.using is not None and policy.operation in ("update", "delete", "all"):
            write_scope &= _compile(policy.using.source, resolver, variables, reasons, policy)
    insert_check = _checks(policies, ("insert", "all"), resolver, variables, reasons)
    update_check = _checks(policies, ("update", "all"), resolver, variables, reasons)

    readable = _field_set(
        runtime, [ps for ps, g in grants if g.allow_read or g.view_all_records], "readable"
    )
    editable = _field_set(
        runtime,
        [ps for ps, g in grants if g.allow_edit or g.allow_create or g.modify_all_records],
        "editable",
    )
    # A reader edits only what it reads; a create-only actor (a web form) reads nothing.
    if can_read:
        editable &= readable
    return Access(
        can_read=can_read,
        can_create=any_grant("allow_create"),
        can_edit=any_grant("allow_edit") or modify_all,
        can_delete=any_grant("allow_delete") or modify_all,
        can_transfer=any_grant("allow_transfer") or modify_all,
        read_scope=read_scope if can_read else MATCH_NOTHING,
        write_scope=_narrow(write_scope, read_scope),
        readable=readable if can_read else frozenset(),
        editable=editable,
        insert_check=insert_check,
        update_check=update_check,
        reasons=tuple(reasons),
    )


def _widen(scope: Q, *more: Q) -> Q:
    """`scope | more...`, keeping MATCH_ALL itself (callers skip filtering on it)."""
    if scope is MATCH_ALL:
        return scope
    for other in more:
        if other is MATCH_ALL:
            return other
        if other is not MATCH_NOTHING:
            scope = other if scope is MATCH_NOTHING else scope | other
    return scope


def _narrow(scope: Q, other: Q) -> Q:
    """`scope & other`, keeping MATCH_ALL itself when one side is it."""
    if scope is MATCH_ALL:
        return other
    if other is MATCH_ALL:
        return scope
    return scope & other


def sharing_scopes(
    kernel: Kernel,
    runtime: ObjectRuntime,
    principal: Principal,
    ctx: Context | None,
    depth: int,
    reasons: list[str],
) -> tuple[Q, Q]:
    """(read, write) scopes from the object's sharingModel."""
    model = runtime.definition.sharing_model or "private"
    owner = Q(owner_id=principal.user_id) if principal.user_id is not None else MATCH_NOTHING
    if model == "controlled_by_parent":
        parent = _master(runtime)
        if parent is not None and depth < MAX_PARENT_DEPTH:
            field_name, parent_runtime = parent[0], kernel.object(parent[1])
            if ctx is not None:
                parent_access = object_access(ctx, parent_runtime, depth + 1)
            else:
                parent_access = compile_access(kernel, parent_runtime, principal, None, depth + 1)
            rows = parent_runtime.model._base_manager
            reasons.append(f"sharingModel controlled_by_parent via {field_name}")
            return (
                Q(**{f"{field_name}__in": rows.filter(parent_access.read_scope).values("pk")}),
                Q(**{f"{field_name}__in": rows.filter(parent_access.write_scope).values("pk")}),
            )
        reasons.append("sharingModel controlled_by_parent without a master: owner only")
        return owner, owner
    reasons.append(f"sharingModel {model}")
    read = MATCH_ALL if model in READ_ALL_MODELS else owner
    write = MATCH_ALL if model in WRITE_ALL_MODELS else owner
    return read, write


def sharing_rule_scopes(
    kernel: Kernel,
    runtime: ObjectRuntime,
    principal: Principal,
    resolver: ObjectResolver,
    variables: dict,
    reasons: list[str],
) -> tuple[Q, Q]:
    """(read, write) widening from the criteria sharing rules shared with this principal."""
    read, write = MATCH_NOTHING, MATCH_NOTHING
    for rule in kernel.artifact.sharing_rules:
        if rule.object != runtime.name or not rule.active or rule.type != "criteria":
            continue
        if not _shared_with(rule.shared_with.type, rule.shared_with.value, principal):
            continue
        condition = _compile(rule.condition.source, resolver, variables, reasons, rule)
        reasons.append(f"sharing rule {rule.name} ({rule.access_level})")
        read |= condition
        if rule.access_level in ("edit", "full"):
            write |= condition
    return read, write


def _shared_with(kind: str, value: str, principal: Principal) -> bool:
    if kind == "user":
        return value in (principal.email, str(principal.user_id))
    if kind == "position":
        return value in principal.positions
    return False  # groups, teams and business units are not modelled here: nobody


def _applies(policy: RlsPolicy, object_name: str, principal: Principal) -> bool:
    if policy.object != object_name or not policy.enabled:
        return False
    return not policy.positions or bool(principal.positions & set(policy.positions))


def _compile(source: str, resolver: ObjectResolver, variables: dict, reasons: list[str], rule) -> Q:
    q, error = cel_to_q_or_nothing(source, resolver, variables)
    if error is not None:
        reasons.append(f"{rule.name}: cannot be compiled, matches nothing ({error.message})")
    return q


def _checks(
    policies: Iterable[RlsPolicy],
    operations: tuple[str, ...],
    resolver: ObjectResolver,
    variables: dict,
    reasons: list[str],
) -> Q | None:
    check = None
    for policy in policies:
        if policy.check is not None and policy.operation in operations:
            q = _compile(policy.check.source, resolver, variables, reasons, policy)
            check = q if check is None else check & q
    return check


def parent_field(runtime: ObjectRuntime) -> str | None:
    """The master field a controlled_by_parent object follows (None for other objects)."""
    if runtime.definition.sharing_model != "controlled_by_parent":
        return None
    master = _master(runtime)
    return master[0] if master is not None else None


def _master(runtime: ObjectRuntime) -> tuple[str, str] | None:
    for name, field in runtime.fields.items():
        if field.definition.type == "master_detail" and field.target:
            return name, field.target
    return None


def _field_set(runtime: ObjectRuntime, sets: list[PermissionSet], flag: str) -> frozenset[str]:
    allowed: set[str] = set()
    prefix = f"{runtime.name}."
    for ps in sets:
        denied = {
            key[len(prefix) :]
            for key, rule in ps.fields.items()
            if key.startswith(prefix) and not getattr(rule, flag)
        }
        allowed |= set(runtime.fields) - denied
    return frozenset(allowed)


def rule_problems(kernel: Kernel) -> list[str]:
    """Row rules of the artifact that cannot be compiled (they match nothing when served),
    as `permissions[i].rowLevelSecurity[j].using: ...` lines for the artifact load report."""
    sample = Principal(
        user_id=0,
        email="",
        name="",
        permission_sets=frozenset(),
        positions=frozenset(),
        is_superuser=False,
        is_system=False,
    )
    variables = sample.variables()
    problems = []

    def check(path: str, object_name: str, source: str) -> None:
        runtime = kernel.objects.get(object_name)
        if runtime is None:
            return
        resolver = ObjectResolver(kernel, runtime, frozenset(runtime.fields))
        _, error = cel_to_q_or_nothing(source, resolver, variables)
        if error is not None:
            problems.append(
                f"{path}: cannot be compiled to a row filter, it will match "
                f"nothing: {error.message}"
            )

    for i, ps in enumerate(kernel.artifact.permissions):
        for j, policy in enumerate(ps.row_level_security or ()):
            for part in ("using", "check"):
                expression = getattr(policy, part)
                if expression is not None:
                    check(
                        f"permissions[{i}].rowLevelSecurity[{j}].{part}",
                        policy.object,
                        expression.source,
                    )
    for i, rule in enumerate(kernel.artifact.sharing_rules):
        if rule.condition is not None:
            check(f"sharingRules[{i}].condition", rule.object, rule.condition.source)
    return problems
