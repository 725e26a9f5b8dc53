"""The script node: calls a plugin function registered on the kernel
(`kernel.functions[name](ctx, inputs)`); artifact JavaScript is never run.

Config: `function` (or `handler`), `inputs` (templated), `outputVariable`.
"""

from __future__ import annotations

from apps.audit.record import jsonable
from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type


@node_type("script", "function", "invoke_function")
class Script:
    def run(self, execution, node: Node) -> Outcome:
        name = node.setting("function") or node.setting("handler") or node.setting("name")
        if not isinstance(name, str) or not name:
            raise NodeFailed(f"script node '{node.id}' names no function")
        functions = getattr(execution.ctx.kernel, "functions", None) or {}
        function = functions.get(name)
        if function is None:
            known = ", ".join(sorted(functions)) or "none is registered"
            raise NodeFailed(
                f"script node '{node.id}': no function '{name}' is registered "
                f"(a plugin provides it with kernel.register_function; known: {known})"
            )
        inputs = execution.render(node.setting("inputs") or node.setting("input") or {})
        result = jsonable(function(execution.ctx, inputs))  # dates -> ISO text
        output_name = node.setting("outputVariable")
        if isinstance(output_name, str) and output_name:
            execution.variables[output_name] = result
        return Outcome(output={"result": result})
