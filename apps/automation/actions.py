"""Actions of the artifact: what a user may run on an object, a record, a selection.

`available_actions(ctx, object_name, location=, record=)` lists the actions the actor
may run (permission honoured, `visible`/`disabled` evaluated for `record` when given);
`run_action(ctx, object_name, action_name, record_id=, record_ids=, params=)` runs one:

- `update` (or any action with `operation: update` and a `patch`): the patch, rendered
  with `{params.x}`/`{record.x}`/`{$User.Id}` tokens or CEL values, written through
  objectql as the actor (record rules, validation and audit apply);
- `script`: the plugin function `kernel.functions[target]` (or the action's own name)
  called as `fn(ctx, {action, object, recordId, record, ids, records, params, user})`,
  as the actor, inside one transaction with the action's audit row; with `async: true`
  it runs as a job;
- `flow`: `apps.automation.flows.launch` with the params (and `recordIdParam`, default
  `recordId`, set to the record id): a job, answered 202;
- `url`: the `target` with `{var}` tokens filled (percent-encoded), returned.

Refusals: unknown action 404 `ACTION_NOT_FOUND`; a record the actor cannot read 404; a
writing action on a record the actor cannot edit, or `requiredPermissions` not held, 403
`FORBIDDEN`; `visible` false 403 `ACTION_NOT_AVAILABLE`; `disabled` true 403
`ACTION_DISABLED`; bad params 400 `VALIDATION_FAILED`; client-side types (`modal`, `form`,
`api`) 400 `ACTION_NOT_RUNNABLE`; a script whose function no plugin provides 501
`ACTION_NOT_IMPLEMENTED`; a function that fails 422 `ACTION_FAILED`. Every run appends
one `action.run` audit row (action, type, ids, params) in the run's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.audit import record as audit
from apps.automation.action_definitions import ActionDefinition, definitions
from apps.automation.action_params import clean_params
from apps.kernel.kernel import Kernel
from apps.objectql.exceptions import Forbidden, ObjectQLError, RecordNotFound, ValidationFailed
from apps.objectql.params import QuerySpec
from apps.objectql.query import get_record, list_records
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context
from apps.security.access import applicable_sets, object_access
from apps.security.principal import principal_of
from apps.security.rules import MATCH_ALL
from apps.security.rules.exceptions import RuleError

logger = logging.getLogger("objectos.actions")
CLIENT_SIDE_TYPES = frozenset({"modal", "form", "api"})


class ActionError(ObjectQLError):
    """Base of the action refusals (mapped to HTTP like every objectql error)."""


class ActionNotFound(ActionError):
    status, code = 404, "ACTION_NOT_FOUND"


class ActionNotAvailable(ActionError):
    status, code = 403, "ACTION_NOT_AVAILABLE"


class ActionDisabled(ActionError):
    status, code = 403, "ACTION_DISABLED"


class ActionNotRunnable(ActionError):
    code = "ACTION_NOT_RUNNABLE"


class ActionNotImplemented(ActionError):
    status, code = 501, "ACTION_NOT_IMPLEMENTED"


class ActionFailed(ActionError):
    status, code = 422, "ACTION_FAILED"


@dataclass
class ActionResult:
    """A run's answer: `body` for actions done now, `job` for those run in the background."""

    action: str
    object_name: str | None
    body: dict[str, Any] = field(default_factory=dict)
    job: Any = None


# -- permission and conditions --------------------------------------------------------


def _user_variables(ctx: Context) -> dict[str, Any]:
    principal = principal_of(ctx)
    return principal.variables()["user"]


def _holds(ctx: Context, permissions: tuple[str, ...]) -> list[str]:
    """The required system permissions the actor lacks (superusers lack none)."""
    if not permissions:
        return []
    principal = principal_of(ctx)
    if principal.is_superuser or principal.is_system:
        return []
    held: set[str] = set()
    for permission_set in applicable_sets(ctx.kernel, principal):
        held.update(permission_set.system_permissions or ())
    return [p for p in permissions if p not in held]


def _condition(
    action: ActionDefinition, which: str, record: Mapping[str, Any] | None, ctx: Context
) -> bool | None:
    """The value of `visible`/`disabled` for `record`; None when it needs a record and
    none is given. An expression that fails counts as hidden / disabled (fail closed)."""
    program = getattr(action, which)
    if program is None:
        return which == "visible"
    if record is None and action.reads_record(which):
        return None
    activation = {"record": record or {}, "user": _user_variables(ctx), **(record or {})}
    try:
        return program.evaluate_bool(activation)
    except RuleError:
        return which == "disabled"


def describe(action: ActionDefinition, ctx: Context, record: Mapping[str, Any] | None) -> dict:
    """The action as the client shows it."""
    return {
        "name": action.name,
        "label": action.label,
        "type": action.type,
        "object": action.object_name,
        "locations": list(action.locations),
        "params": action.params,
        "confirmText": action.spec.get("confirmText"),
        "successMessage": action.spec.get("successMessage"),
        "refreshAfter": bool(action.spec.get("refreshAfter", False)),
        "variant": action.spec.get("variant"),
        "icon": action.spec.get("icon"),
        "visible": _condition(action, "visible", record, ctx),
        "disabled": _condition(action, "disabled", record, ctx),
        "runnable": action.runnable(ctx.kernel),
    }


def available_actions(
    ctx: Context,
    object_name: str | None,
    *,
    location: str | None = None,
    record: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Actions of the object (None: global ones) the actor may run; with `record`, the
    hidden ones are left out and `disabled` is evaluated for it."""
    kernel: Kernel = ctx.kernel
    if object_name is not None:
        runtime = kernel.object(object_name)
        if not object_access(ctx, runtime).can_read:
            raise Forbidden(f"you may not read {object_name}")
    listed = []
    for action in definitions(kernel).get(object_name, {}).values():
        if location and location not in action.locations:
            continue
        if _holds(ctx, action.required_permissions):
            continue
        described = describe(action, ctx, record)
        if record is not None and described["visible"] is False:
            continue
        listed.append(described)
    return listed


def find_action(kernel: Kernel, object_name: str | None, action_name: str) -> ActionDefinition:
    if object_name is not None:
        kernel.object(object_name)
    action = definitions(kernel).get(object_name, {}).get(action_name)
    if action is None:
        where = f"object {object_name}" if object_name else "the app (global actions)"
        raise ActionNotFound(f"no action '{action_name}' on {where}")
    return action


# -- running --------------------------------------------------------------------------


def _read(ctx: Context, object_name: str, record_id: str) -> dict[str, Any]:
    return get_record(ctx, object_name, record_id, QuerySpec(top=1))["record"]


def _check_editable(ctx: Context, object_name: str, record_ids: list[str]) -> None:
    runtime = ctx.kernel.object(object_name)
    access = object_access(ctx, runtime)
    if not access.can_edit:
        raise Forbidden(f"you may not edit {object_name}")
    if access.write_scope is MATCH_ALL or not record_ids:
        return
    editable = set(
        runtime.model._base_manager.filter(access.write_scope, pk__in=record_ids).values_list(
            "pk", flat=True
        )
    )
    refused = [i for i in record_ids if i not in {str(e) for e in editable}]
    if refused:
        raise Forbidden(f"you may not edit {object_name} {', '.join(refused)}")


def _records(ctx: Context, action: ActionDefinition, record_ids: list[str]) -> list[dict]:
    """The records as the actor reads them (404 naming the first missing id)."""
    if not record_ids or action.object_name is None:
        return []
    if len(record_ids) == 1:
        return [_read(ctx, action.object_name, record_ids[0])]
    spec = QuerySpec(top=len(record_ids), filters=[{"id": {"$in": record_ids}}], count=False)
    found = {r["id"]: r for r in list_records(ctx, action.object_name, spec)["records"]}
    for record_id in record_ids:
        if record_id not in found:
            raise RecordNotFound(f"{action.object_name} '{record_id}' not found")
    return [found[i] for i in record_ids]


def _ids(record_id: str | None, record_ids: Any) -> list[str]:
    if record_ids is None:
        return [str(record_id)] if record_id else []
    if not isinstance(record_ids, list) or not all(isinstance(i, str) for i in record_ids):
        raise ValidationFailed("ids must be a list of record ids", field="ids")
    if record_id and record_ids:
        raise ValidationFailed("give the record id in the path or ids in the body, not both")
    return list(dict.fromkeys(record_ids))


def run_action(
    ctx: Context,
    object_name: str | None,
    action_name: str,
    *,
    record_id: str | None = None,
    record_ids: list[str] | None = None,
    params: Any = None,
) -> ActionResult:
    """Check and run one action as the context's actor (see the module docstring)."""
    kernel: Kernel = ctx.kernel
    action = find_action(kernel, object_name, action_name)
    if object_name is not None and not object_access(ctx, kernel.object(object_name)).can_read:
        raise Forbidden(f"you may not read {object_name}")
    missing = _holds(ctx, action.required_permissions)
    if missing:
        raise Forbidden(f"action '{action.name}' needs permission {', '.join(missing)}")
    if action.type in CLIENT_SIDE_TYPES:
        raise ActionNotRunnable(
            f"action '{action.name}' is a {action.type} action: the client opens it, "
            "nothing runs on the server"
        )
    ids = _ids(record_id, record_ids)
    if ids and object_name is None:
        raise ValidationFailed("a global action takes no record ids", field="ids")
    records = _records(ctx, action, ids)
    for record in records or [None]:
        if _condition(action, "visible", record, ctx) is False:
            raise ActionNotAvailable(_not_for(action, record, "is not available"))
        if _condition(action, "disabled", record, ctx) is True:
            raise ActionDisabled(_not_for(action, record, "is disabled"))
    cleaned = clean_params(ctx, action.params, params)
    writes = action.writes or getattr(action.function(kernel), "writes", False)
    if writes and object_name is not None:
        _check_editable(ctx, object_name, ids)
    from apps.automation import action_runners

    return action_runners.run(ctx, action, ids, records, cleaned)


def _not_for(action: ActionDefinition, record: Mapping[str, Any] | None, what: str) -> str:
    suffix = f" for {action.object_name} '{record.get('id')}'" if record else ""
    return f"action '{action.name}' {what}{suffix}"


def audit_run(
    ctx: Context, action: ActionDefinition, ids: list[str], params: dict, outcome: str
) -> None:
    """The action's own audit row (its writes are audited by objectql)."""
    audit.record(
        ctx,
        "action.run",
        object_name=action.object_name or "",
        record_id=ids[0] if len(ids) == 1 else "",
        details={
            "action": action.name,
            "type": action.type,
            "ids": ids,
            "params": params,
            "outcome": outcome,
        },
    )


def script_task(
    ctx: Context,
    object_name: str | None,
    action_name: str,
    record_ids: list[str],
    params: dict[str, Any],
) -> Any:
    """Job entry point of an `async` script action: runs it now, as the job's user."""
    from apps.automation import action_runners

    action = find_action(ctx.kernel, object_name, action_name)
    records = _records(ctx, action, record_ids)
    with write_transaction():
        return action_runners.call_script(ctx, action, record_ids, records, params)
