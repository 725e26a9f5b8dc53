"""The screen node: pauses the run until the person it belongs to answers
(`POST /api/v1/automation/runs/<id>/resume` with the screen's inputs).

The waiting state carries the rendered screen (title, description, fields, defaults) so
a client can show it. On resume, each `fields[].name` (and `idVariable`) becomes a
variable; a required field that is missing or empty, or a name the screen does not
ask for, is refused with 400 naming it.
"""

from __future__ import annotations

from typing import Any

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import InvalidResume, NotAnApprover
from apps.automation.flows.nodes.base import Outcome, node_type


def _fields(node: Node) -> list[dict[str, Any]]:
    return [f for f in node.setting("fields") or [] if isinstance(f, dict) and f.get("name")]


@node_type("screen")
class Screen:
    def run(self, execution, node: Node) -> Outcome:
        screen = execution.render(
            {
                key: node.config[key]
                for key in ("title", "description", "fields", "defaults", "objectName")
                if key in node.config
            }
        )
        screen.setdefault("title", node.label or "")
        for field in screen.get("fields") or []:
            name = field.get("name")
            if "defaultValue" not in field and execution.variables.get(name) is not None:
                field["defaultValue"] = execution.variables[name]
        return Outcome(pause={"kind": "screen", "screen": screen})

    def resume(self, execution, node: Node, waiting, payload, actor) -> Outcome:
        if not actor.is_superuser and actor.user_id != execution.run.user_id:
            raise NotAnApprover("only the person this run belongs to may answer its screen")
        inputs = payload.get("inputs", payload) if isinstance(payload, dict) else payload
        if inputs is None:
            inputs = {}
        if not isinstance(inputs, dict):
            raise InvalidResume("the screen's inputs must be a JSON object", field="inputs")
        fields = _fields(node)
        allowed = {f["name"] for f in fields}
        id_variable = node.setting("idVariable")
        if isinstance(id_variable, str):
            allowed.add(id_variable)
        allowed |= {v.name for v in execution.graph.flow.variables if v.is_input}
        for name in inputs:
            if name not in allowed:
                raise InvalidResume(f"the screen does not ask for '{name}'", field=name)
        for field in fields:
            value = inputs.get(field["name"], field.get("defaultValue"))
            if field.get("required") and value in (None, "", []):
                raise InvalidResume(f"'{field['name']}' is required", field=field["name"])
            if field["name"] in inputs or field["name"] not in execution.variables:
                execution.variables[field["name"]] = value
        for name, value in inputs.items():
            execution.variables[name] = value
        return Outcome(output={"inputs": inputs})
