"""Control nodes: start, end, decision (branches live on the outgoing edges) and
assignment (set, add or subtract variables)."""

from __future__ import annotations

from typing import Any

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type


@node_type("start")
class Start:
    def run(self, execution, node: Node) -> Outcome:
        return Outcome()


@node_type("end")
class End:
    def run(self, execution, node: Node) -> Outcome:
        return Outcome(end=True)


@node_type("decision")
class Decision:
    """Chooses among its outgoing edges: the first whose CEL condition holds, in order,
    else the `isDefault` one (engine.next_node). Inline `config.rules` ([{condition,
    target}]) are accepted too."""

    def run(self, execution, node: Node) -> Outcome:
        for rule in node.setting("rules") or node.setting("conditions") or ():
            if not isinstance(rule, dict):
                continue
            source = rule.get("condition") or rule.get("expression")
            if isinstance(source, dict):
                source = source.get("source")
            target = rule.get("target") or rule.get("next")
            if isinstance(source, str) and isinstance(target, str):
                if execution.condition(source):
                    return Outcome(goto=target, output={"matched": source})
        return Outcome()


def _combine(operator: str, current: Any, value: Any, name: str) -> Any:
    if operator in ("set", "assign", "equals", "="):
        return value
    if operator in ("add", "+"):
        if isinstance(current, list):
            return [*current, *(value if isinstance(value, list) else [value])]
        if current is None:
            return value
        if isinstance(current, int | float) and isinstance(value, int | float):
            return current + value
        if isinstance(current, str):
            return current + ("" if value is None else str(value))
    if operator in ("subtract", "-"):
        if isinstance(current, list):
            removed = value if isinstance(value, list) else [value]
            return [item for item in current if item not in removed]
        if isinstance(current, int | float) and isinstance(value, int | float):
            return current - value
    raise NodeFailed(f"cannot {operator} {value!r} to variable '{name}' ({current!r})")


@node_type("assignment")
class Assignment:
    """`assignments`: `{name: value}` (set), or `[{variable, operator, value}]` with the
    operators set, add (numbers, text, lists) and subtract (numbers, lists)."""

    def run(self, execution, node: Node) -> Outcome:
        assignments = node.setting("assignments") or {}
        items: list[tuple[str, str, Any]] = []
        if isinstance(assignments, dict):
            items = [(name, "set", value) for name, value in assignments.items()]
        elif isinstance(assignments, list):
            for item in assignments:
                if not isinstance(item, dict) or not isinstance(
                    item.get("variable") or item.get("name"), str
                ):
                    raise NodeFailed(f"assignment '{node.id}': each item needs a variable")
                name = item.get("variable") or item.get("name")
                items.append((name, str(item.get("operator") or "set"), item.get("value")))
        else:
            raise NodeFailed(f"assignment '{node.id}': assignments must be an object or a list")
        changed = {}
        for name, operator, raw in items:
            value = execution.render(raw)
            execution.variables[name] = _combine(
                operator.lower(), execution.variables.get(name), value, name
            )
            changed[name] = execution.variables[name]
        return Outcome(output=changed)
