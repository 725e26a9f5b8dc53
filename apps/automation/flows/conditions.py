"""CEL conditions of flows (trigger conditions, decision edges), on the project's own
compiled evaluator (apps.security.rules): never `eval`, compiled once per source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.automation.flows.exceptions import NodeFailed
from apps.security.rules import CelError, compile_cel


def evaluate_condition(source: str, activation: Mapping[str, Any]) -> bool:
    """True or False; a condition that does not compile, fails or gives a non-boolean
    raises NodeFailed naming the expression."""
    try:
        return compile_cel(source).evaluate_bool(activation)
    except CelError as error:
        raise NodeFailed(f"condition {source!r}: {error.message}") from None


def record_activation(
    record: Mapping[str, Any] | None, previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A trigger condition's activation: the record's fields bare, `record`, `previous`."""
    activation = dict(record or {})
    activation["record"] = dict(record) if record is not None else None
    activation["previous"] = dict(previous) if previous is not None else None
    return activation


def evaluate_value(source: str, activation: Mapping[str, Any]) -> Any:
    """The value of a CEL expression (approver expressions); NodeFailed on error."""
    try:
        return compile_cel(source).evaluate(activation)
    except CelError as error:
        raise NodeFailed(f"expression {source!r}: {error.message}") from None
