"""Running the artifact's actions from the Console: record header, list toolbar and bulk.

The action page shows the action's confirm text and a form for its parameters; posting
it calls `apps.automation.actions.run_action` as the reader, so visibility, `disabled`,
required permissions and the record's scope are checked exactly as for the API. A result
is shown on the page; an action run as a job leads to the job's page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from apps.artifact.models import Field
from apps.automation.actions import available_actions, run_action
from apps.console import fields as widgets
from apps.console.views.common import PREFIX, Console, console_view, page
from apps.fieldtypes.registry import get_type
from apps.kernel.kernel import FieldRuntime
from apps.objectql.exceptions import ObjectQLError

LOCATIONS = {"record": "record_header", "list": "list_toolbar", "bulk": "list_item"}


def action_links(console: Console, object_name: str | None, location: str,
                 record: dict | None = None, record_id: str | None = None) -> list[dict]:  # fmt: skip
    """The actions to show at `location` (only runnable ones the reader may run)."""
    try:
        listed = available_actions(console.ctx, object_name, location=location, record=record)
    except ObjectQLError:
        return []
    base = f"{PREFIX}/o/{object_name}/actions/" if object_name else f"{PREFIX}/actions/"
    links = []
    for action in listed:
        if not action.get("runnable", True) or action.get("visible") is False:
            continue
        url = f"{base}{action['name']}/" + (f"?id={record_id}" if record_id else "")
        label = console.t.action_label(action["name"], action.get("label") or action["name"])
        links.append({"name": action["name"], "label": label, "url": url,
                      "disabled": action.get("disabled") is True})  # fmt: skip
    return links


def _param_runtime(spec: dict[str, Any]) -> FieldRuntime | None:
    try:
        definition = Field.model_validate(
            {k: v for k, v in spec.items() if k != "label"} | {"label": spec.get("label")}
        )
        field_type = get_type(definition.type)
    except Exception:  # an unknown parameter type: offered as text, checked by the action
        definition = Field(name=str(spec.get("name")), type="text")
        field_type = get_type("text")
    return FieldRuntime(definition.name, definition, field_type, True, definition.reference)


def _params_form(action: dict[str, Any], data: Any) -> tuple[forms.Form, dict[str, FieldRuntime]]:
    runtimes: dict[str, FieldRuntime] = {}
    form_fields = {}
    for spec in action.get("params") or ():
        if not isinstance(spec, dict) or not spec.get("name"):
            continue
        runtime = _param_runtime(spec)
        runtimes[runtime.name] = runtime
        choices = (
            widgets.options(runtime, lambda f, v, d: d)
            if widgets.kind_of(runtime) in ("choice", "choices")
            else None
        )
        form_fields[runtime.name] = widgets.form_field(
            runtime,
            str(spec.get("label") or runtime.name),
            required=bool(spec.get("required")),
            choices=choices,
        )
    form_class = type("ActionParams", (forms.Form,), form_fields)
    return form_class(data=data), runtimes


@console_view
@require_http_methods(["GET", "POST"])
def run(request: HttpRequest, action_name: str, object_name: str | None = None) -> HttpResponse:
    console: Console = request.console
    record_id = request.GET.get("id") or request.POST.get("id") or None
    ids = [i for i in request.POST.getlist("ids") if i] or None
    if object_name is not None:
        console.kernel.object(object_name)
    action = next(
        (a for a in available_actions(console.ctx, object_name) if a["name"] == action_name), None
    )
    if action is None:
        from apps.objectql.exceptions import RecordNotFound

        raise RecordNotFound(f"no action '{action_name}' you may run")
    running = request.method == "POST" and "run" in request.POST
    form, runtimes = _params_form(action, request.POST if running else None)
    result = None
    status = 200
    if running and form.is_valid():
        params = {}
        for name, value in form.cleaned_data.items():
            wire, problem = widgets.to_wire(runtimes[name], value)
            if problem:
                form.add_error(name, problem)
            elif wire is not widgets.OMIT:
                params[name] = wire
        if not form.errors:
            try:
                outcome = run_action(console.ctx, object_name, action_name, record_id=record_id,
                                     record_ids=ids, params=params)  # fmt: skip
            except ObjectQLError as error:
                for problem in error.fields or ():
                    name = str(problem.get("field", "")).removeprefix("params.")
                    if name in form.fields:
                        form.add_error(name, str(problem.get("message")))
                if not form.errors:
                    form.add_error(None, error.message)
                status = error.status if error.status < 500 else 400
            else:
                if outcome.job is not None:
                    messages.info(request, f"{action['label']} is running as job {outcome.job.id}.")
                    return HttpResponseRedirect(f"{PREFIX}/platform/jobs/{outcome.job.id}/")
                messages.success(
                    request, action.get("successMessage") or f"{action['label']} done."
                )
                result = outcome.body
    elif running:
        status = 400
    back = f"{PREFIX}/o/{object_name}/" if object_name else f"{PREFIX}/"
    if record_id and object_name:
        back = f"{back}{record_id}/"
    return page(request, "console/action.html", status=status, title=action["label"], action=action,
                form=form, result=result, record_id=record_id, ids=ids or [], object_name=object_name,
                back=back)  # fmt: skip
