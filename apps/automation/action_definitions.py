"""The artifact's actions compiled once per kernel: by object (None for global actions).

Actions come from the top-level `actions` list (the compiler copies object actions
there, with `objectName`) and from each object's `actions`; the first definition of an
(object, name) pair wins. `visible`/`disabled` CEL is compiled here; one that does not
compile fails closed (the action is hidden, or disabled).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apps.kernel.kernel import Kernel
from apps.security.rules import CelProgram, compile_cel
from apps.security.rules.cel_ast import Ident, Node, Select
from apps.security.rules.exceptions import CelError, RuleError

WRITE_CAPABILITIES = frozenset({"api.write", "data.write"})


class BrokenCondition:
    """A `visible`/`disabled` expression that did not compile: every evaluation fails."""

    def __init__(self, source: str, error: str) -> None:
        self.source = source
        self.error = error

    def evaluate_bool(self, activation: Mapping[str, Any]) -> bool:
        raise CelError(self.source, self.error)


Condition = CelProgram | BrokenCondition


def _reads_record(node: Any) -> bool:
    if isinstance(node, Select) and isinstance(node.operand, Ident):
        return node.operand.name == "record"
    if isinstance(node, Ident):
        return node.name not in ("user", "true", "false", "null")
    for name in getattr(node, "__slots__", ()):
        child = getattr(node, name)
        for item in child if isinstance(child, tuple) else (child,):
            parts = item if isinstance(item, tuple) else (item,)
            if any(isinstance(p, Node) and _reads_record(p) for p in parts):
                return True
    return False


def _compile_condition(value: Any) -> Condition | None:
    if value is None or value is True:
        return None
    if value is False:
        return compile_cel("false")
    source = value.get("source") if isinstance(value, dict) else value
    if isinstance(value, dict) and value.get("dialect", "cel") != "cel":
        return BrokenCondition(str(source), f"dialect '{value.get('dialect')}' is not supported")
    if not isinstance(source, str) or not source.strip():
        return BrokenCondition(str(source), "not a CEL expression")
    try:
        return compile_cel(source)
    except RuleError as error:
        return BrokenCondition(source, str(error))


@dataclass(frozen=True)
class ActionDefinition:
    name: str
    label: str
    object_name: str | None
    type: str
    target: str | None
    locations: tuple[str, ...]
    params: list[dict[str, Any]]
    required_permissions: tuple[str, ...]
    visible: Condition | None
    disabled: Condition | None
    spec: dict[str, Any]

    @property
    def is_update(self) -> bool:
        return self.type == "update" or self.spec.get("operation") == "update"

    @property
    def run_async(self) -> bool:
        return bool(self.spec.get("async") or self.spec.get("runAsJob"))

    @property
    def writes(self) -> bool:
        """True for actions that change records: the actor must be able to edit them."""
        if self.is_update or self.spec.get("writes") is True:
            return True
        body = self.spec.get("body")
        capabilities = body.get("capabilities") if isinstance(body, dict) else None
        return bool(WRITE_CAPABILITIES.intersection(capabilities or ()))

    def reads_record(self, which: str) -> bool:
        program = getattr(self, which)
        if isinstance(program, CelProgram):
            return _reads_record(program.ast)
        return program is not None

    def function(self, kernel: Kernel) -> Callable[..., Any] | None:
        """The plugin function of a script action: `target`, else the action's name."""
        functions = getattr(kernel, "functions", None) or {}
        for name in (self.target, self.name):
            if name and name in functions:
                return functions[name]
        return None

    def runnable(self, kernel: Kernel) -> bool:
        if self.type in ("modal", "form", "api"):
            return False
        if self.is_update or self.type in ("url", "flow"):
            return True
        return self.function(kernel) is not None


def _definition(spec: dict[str, Any], object_name: str | None) -> ActionDefinition:
    params = [p for p in spec.get("params") or () if isinstance(p, dict) and p.get("name")]
    permissions = spec.get("requiredPermissions") or ()
    return ActionDefinition(
        name=str(spec["name"]),
        label=str(spec.get("label") or spec["name"]),
        object_name=object_name,
        type=str(spec.get("type") or ("update" if spec.get("operation") else "script")),
        target=spec.get("target") if isinstance(spec.get("target"), str) else None,
        locations=tuple(str(x) for x in spec.get("locations") or ()),
        params=params,
        required_permissions=tuple(str(p) for p in permissions),
        visible=_compile_condition(spec.get("visible")),
        disabled=_compile_condition(spec.get("disabled")),
        spec=spec,
    )


def compile_actions(kernel: Kernel) -> dict[str | None, dict[str, ActionDefinition]]:
    compiled: dict[str | None, dict[str, ActionDefinition]] = {}

    def add(spec: Any, object_name: str | None) -> None:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            return
        if object_name is not None and object_name not in kernel.objects:
            return
        compiled.setdefault(object_name, {}).setdefault(
            spec["name"], _definition(spec, object_name)
        )

    for spec in kernel.artifact.actions:
        add(spec, spec.get("objectName") if isinstance(spec, dict) else None)
    for obj in kernel.artifact.objects:
        for spec in obj.actions or ():
            add(spec, spec.get("objectName", obj.name) if isinstance(spec, dict) else obj.name)
    return compiled


_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def definitions(kernel: Kernel) -> dict[str | None, dict[str, ActionDefinition]]:
    """The kernel's actions, compiled on first use and kept as long as the kernel."""
    found = _compiled.get(kernel)
    if found is None:
        found = compile_actions(kernel)
        with _lock:
            _compiled[kernel] = found
    return found
