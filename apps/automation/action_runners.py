"""How each action type runs, once `apps.automation.actions.run_action` has checked it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from apps.automation import actions
from apps.automation.action_definitions import ActionDefinition
from apps.automation.action_params import render, render_value
from apps.objectql import write
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context
from apps.security.rules import compile_cel
from apps.security.rules.exceptions import RuleError

logger = logging.getLogger("objectos.actions")
URL_PREFIXES = ("https://", "http://", "mailto:", "/")


def run(
    ctx: Context,
    action: ActionDefinition,
    ids: list[str],
    records: list[dict[str, Any]],
    params: dict[str, Any],
) -> actions.ActionResult:
    if action.is_update:
        return _update(ctx, action, ids, records, params)
    if action.type == "url":
        return _url(ctx, action, ids, records, params)
    if action.type == "flow":
        return _flow(ctx, action, ids, params)
    if action.type == "script":
        return _script(ctx, action, ids, records, params)
    raise actions.ActionNotRunnable(f"action '{action.name}' has unsupported type '{action.type}'")


def _variables(
    ctx: Context, record: Mapping[str, Any] | None, params: dict[str, Any]
) -> dict[str, Any]:
    user = actions._user_variables(ctx)
    record = record or {}
    return {
        **record,
        **params,
        "id": record.get("id"),
        "recordId": record.get("id"),
        "record": record,
        "params": params,
        "user": user,
        "$User": {"Id": user["id"], "Email": user["email"], "Name": user["name"]},
    }


def _answer(action: ActionDefinition, ids: list[str], result: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action.name, "object": action.object_name}
    if len(ids) == 1:
        body["id"] = ids[0]
    elif ids:
        body["ids"] = ids
    body["result"] = result
    if action.spec.get("successMessage"):
        body["message"] = action.spec["successMessage"]
    body["refreshAfter"] = bool(action.spec.get("refreshAfter", False))
    return body


# -- update: a declarative patch --------------------------------------------------------


def _patch(action: ActionDefinition, variables: dict[str, Any]) -> dict[str, Any]:
    patch = action.spec.get("patch") or action.spec.get("fields") or {}
    if not isinstance(patch, dict) or not patch:
        raise actions.ActionNotRunnable(f"update action '{action.name}' has no patch")
    values = {}
    for name, value in patch.items():
        if isinstance(value, dict) and "source" in value and value.get("dialect", "cel") == "cel":
            try:
                value = compile_cel(value["source"]).evaluate(variables)
            except RuleError as error:
                raise actions.ActionFailed(
                    f"action '{action.name}': patch value of {name} failed: {error}",
                    field=name,
                ) from None
            values[name] = _jsonable(value)
        else:
            values[name] = render_value(value, variables)
    return values


def _jsonable(value: Any) -> Any:
    from apps.audit.record import jsonable

    return jsonable(value)


def _update(ctx, action, ids, records, params) -> actions.ActionResult:
    if action.object_name is None or not ids:
        raise actions.ActionNotRunnable(f"update action '{action.name}' needs a record")
    with write_transaction():
        if len(ids) == 1:
            patch = _patch(action, _variables(ctx, records[0], params))
            result: Any = write.update_record(ctx, action.object_name, ids[0], patch)
        else:
            batch = [
                {**_patch(action, _variables(ctx, record, params)), "id": record_id}
                for record_id, record in zip(ids, records, strict=True)
            ]
            result = write.update_many(ctx, action.object_name, batch)
        actions.audit_run(ctx, action, ids, params, "done")
    return actions.ActionResult(action.name, action.object_name, _answer(action, ids, result))


# -- url ------------------------------------------------------------------------------


def _url(ctx, action, ids, records, params) -> actions.ActionResult:
    if not action.target:
        raise actions.ActionNotRunnable(f"url action '{action.name}' has no target")
    record = records[0] if len(records) == 1 else None
    url = render(action.target, _variables(ctx, record, params), url=True)
    if not url.lower().startswith(URL_PREFIXES):
        raise actions.ActionFailed(f"action '{action.name}' resolved to a refused url scheme")
    with write_transaction():
        actions.audit_run(ctx, action, ids, params, "done")
    body = _answer(action, ids, {"url": url})
    body["url"] = url
    return actions.ActionResult(action.name, action.object_name, body)


# -- flow -----------------------------------------------------------------------------


def _flow(ctx, action, ids, params) -> actions.ActionResult:
    try:
        from apps.automation import flows
    except ImportError:
        flows = None
    if flows is None or not hasattr(flows, "launch"):
        raise actions.ActionNotImplemented("flows are not available in this installation")
    if not action.target:
        raise actions.ActionNotRunnable(f"flow action '{action.name}' names no flow")
    inputs = dict(params)
    if ids:
        inputs[str(action.spec.get("recordIdParam") or "recordId")] = (
            ids[0] if len(ids) == 1 else None
        )
        inputs["ids"] = ids
    with write_transaction():
        job = flows.launch(
            ctx,
            action.target,
            inputs,
            object_name=action.object_name,
            record_id=ids[0] if len(ids) == 1 else None,
        )
        actions.audit_run(ctx, action, ids, params, "launched")
    return actions.ActionResult(action.name, action.object_name, job=job)


# -- script ---------------------------------------------------------------------------


def call_script(
    ctx: Context,
    action: ActionDefinition,
    ids: list[str],
    records: list[dict[str, Any]],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Call the plugin function and append the audit row (inside the caller's transaction)."""
    function = action.function(ctx.kernel)
    if function is None:
        raise actions.ActionNotImplemented(
            f"script action '{action.name}' calls '{action.target or action.name}', which no "
            "plugin provides (JavaScript handlers are not run; register a Python function)"
        )
    payload = {
        "action": action.name,
        "object": action.object_name,
        "recordId": ids[0] if len(ids) == 1 else None,
        "record": records[0] if len(records) == 1 else None,
        "ids": ids,
        "records": records,
        "params": params,
        "user": actions._user_variables(ctx),
    }
    try:
        result = function(ctx, payload)
    except ObjectQLError:
        raise
    except Exception as error:  # noqa: BLE001 - a plugin's failure is the action's failure
        logger.exception("action %s failed", action.name)
        raise actions.ActionFailed(f"action '{action.name}' failed: {error}") from None
    actions.audit_run(ctx, action, ids, params, "done")
    return _answer(action, ids, _jsonable(result))


def _script(ctx, action, ids, records, params) -> actions.ActionResult:
    if action.run_async:
        return _script_job(ctx, action, ids, params)
    with write_transaction():
        body = call_script(ctx, action, ids, records, params)
    return actions.ActionResult(action.name, action.object_name, body)


def _script_job(ctx, action, ids, params) -> actions.ActionResult:
    if action.function(ctx.kernel) is None:
        call_script(ctx, action, ids, [], params)  # raises ActionNotImplemented
    try:
        from apps.jobs import submit
    except ImportError:
        raise actions.ActionNotImplemented("background jobs are not available") from None
    with write_transaction():
        job = submit(
            ctx,
            "apps.automation.actions.script_task",
            {
                "object_name": action.object_name,
                "action_name": action.name,
                "record_ids": ids,
                "params": params,
            },
            kind="action",
        )
        actions.audit_run(ctx, action, ids, params, "queued")
    return actions.ActionResult(action.name, action.object_name, job=job)
