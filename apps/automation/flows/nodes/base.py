"""The node handler contract and the registry of node types (one module per kind).

A handler runs one node: `run(execution, node) -> Outcome`. Nodes that pause (screen,
approval, wait, subflow) return `Outcome(pause={...})` and implement
`resume(execution, node, waiting, payload, actor) -> Outcome`, called when the run is
resumed. `Outcome.branch` picks the outgoing edge by label (`approve`, `reject`);
`Outcome.goto` names the next node directly; `Outcome.end` finishes the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from apps.automation.flows.definition import Node
    from apps.automation.flows.engine import Execution
    from apps.projects.context import Context


@dataclass
class Outcome:
    output: Any = None
    branch: str | None = None
    goto: str | None = None
    pause: dict[str, Any] | None = None
    end: bool = False


class NodeHandler(Protocol):
    def run(self, execution: Execution, node: Node) -> Outcome: ...


class PausingHandler(NodeHandler, Protocol):
    def resume(
        self,
        execution: Execution,
        node: Node,
        waiting: dict[str, Any],
        payload: Any,
        actor: Context,
    ) -> Outcome: ...


_HANDLERS: dict[str, NodeHandler] = {}


def node_type(*names: str) -> Callable[[type], type]:
    """Class decorator: register one handler instance under each of `names`."""

    def register(cls: type) -> type:
        handler = cls()
        for name in names:
            _HANDLERS[name] = handler
        return cls

    return register


def handler_for(node_type_name: str) -> NodeHandler | None:
    from apps.automation.flows import nodes  # noqa: F401 - registers the built-in types

    return _HANDLERS.get(node_type_name)


def known_types() -> list[str]:
    from apps.automation.flows import nodes  # noqa: F401

    return sorted(_HANDLERS)
