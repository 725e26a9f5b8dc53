"""The compiled validation rule types (see apps.automation.validation for the semantics).

Each `Rule` yields `Violation`s for an invalid write; `BrokenRule` stands in for a rule
that could not be compiled and refuses every write it applies to (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from apps.kernel.kernel import ObjectRuntime
from apps.projects.context import Context
from apps.security.rules import CelProgram
from apps.security.rules.exceptions import RuleError

BLOCKING = "error"
EVENTS = ("insert", "update")


class RuleInvalid(Exception):
    """A rule definition that cannot be compiled; the message says why."""


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str
    code: str
    message: str
    severity: str = BLOCKING

    def problem(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message, "rule": self.rule}


@dataclass(frozen=True)
class Check:
    """What the rules read: the after-state, the before-state and the CEL activation."""

    event: str
    record: Mapping[str, Any]
    previous: Mapping[str, Any] | None
    activation: Mapping[str, Any]


class Rule:
    """One compiled rule; `violations` yields nothing for a valid record."""

    def __init__(self, spec: Mapping[str, Any], field: str) -> None:
        self.name = str(spec.get("name") or "unnamed_rule")
        self.active = spec.get("active", True) is not False
        self.events = frozenset(spec.get("events") or EVENTS)
        self.priority = spec["priority"] if isinstance(spec.get("priority"), int) else 100
        self.severity = str(spec.get("severity") or BLOCKING)
        self.message = str(spec.get("message") or f"validation rule '{self.name}' failed")
        self.field = field

    def applies(self, event: str) -> bool:
        return self.active and event in self.events

    def violation(self, code: str, message: str | None = None) -> Violation:
        return Violation(self.name, self.field, code, message or self.message, self.severity)

    def violations(self, ctx: Context, runtime: ObjectRuntime, check: Check) -> Iterator[Violation]:
        raise NotImplementedError


class BrokenRule(Rule):
    """A rule that did not compile: fails closed on every write it applies to."""

    def __init__(self, spec: Mapping[str, Any], field: str, error: str) -> None:
        super().__init__(spec, field)
        self.error = error
        self.severity = BLOCKING

    def violations(self, ctx, runtime, check):
        yield self.violation(
            "rule_invalid", f"validation rule '{self.name}' cannot be evaluated: {self.error}"
        )


def _evaluate(rule: Rule, program: CelProgram, check: Check) -> bool | Violation:
    try:
        return program.evaluate_bool(check.activation)
    except RuleError as error:
        return rule.violation("rule_error", f"validation rule '{rule.name}' failed: {error}")


class ConditionRule(Rule):
    """`script` and `cross_field`: the condition is true for an invalid record."""

    def __init__(self, spec: Mapping[str, Any], field: str, program: CelProgram) -> None:
        super().__init__(spec, field)
        self.program = program

    def violations(self, ctx, runtime, check):
        outcome = _evaluate(self, self.program, check)
        if isinstance(outcome, Violation):
            yield outcome
        elif outcome:
            yield self.violation("rule_violated")


class StateMachineRule(Rule):
    def __init__(self, spec: Mapping[str, Any], field: str) -> None:
        super().__init__(spec, field)
        transitions = spec.get("transitions")
        if not isinstance(transitions, dict) or not all(
            isinstance(v, list) for v in transitions.values()
        ):
            raise RuleInvalid("transitions must map each state to a list of states")
        self.transitions = {str(k): frozenset(map(str, v)) for k, v in transitions.items()}
        self.states = frozenset(self.transitions).union(*self.transitions.values())

    def violations(self, ctx, runtime, check):
        value = check.record.get(self.field)
        if value is None:
            return
        if check.event == "insert" or check.previous is None:
            if str(value) not in self.states:
                yield self.violation("invalid_state")
            return
        before = check.previous.get(self.field)
        if before == value or before is None:
            return
        allowed = self.transitions.get(str(before))
        if allowed is not None and str(value) not in allowed:
            yield self.violation("invalid_transition")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {
    "email": lambda v: bool(_EMAIL.match(v)),
    "url": lambda v: bool(_URL.match(v)),
    "phone": lambda v: bool(_PHONE.match(v)) and sum(c.isdigit() for c in v) >= 5,
    "json": _is_json,
}


class FormatRule(Rule):
    def __init__(self, spec: Mapping[str, Any], field: str) -> None:
        super().__init__(spec, field)
        regex, name = spec.get("regex"), spec.get("format")
        if regex is not None:
            if not isinstance(regex, str) or len(regex) > 1024:
                raise RuleInvalid("regex must be a string of at most 1024 characters")
            try:
                pattern = re.compile(regex)
            except re.error as error:
                raise RuleInvalid(f"invalid regex {regex!r}: {error}") from None
            self.test: Callable[[str], bool] = lambda v: pattern.search(v) is not None
        elif name in FORMATS:
            self.test = FORMATS[name]
        else:
            raise RuleInvalid(f"format rule needs a regex or a format ({', '.join(FORMATS)})")

    def violations(self, ctx, runtime, check):
        value = check.record.get(self.field)
        if value is None or value == "":
            return
        if not isinstance(value, str) or not self.test(value):
            yield self.violation("invalid_format")


class JsonSchemaRule(Rule):
    def __init__(self, spec: Mapping[str, Any], field: str) -> None:
        super().__init__(spec, field)
        schema = spec.get("schema")
        if not isinstance(schema, dict | bool):
            raise RuleInvalid("json_schema rule needs a schema object")
        import jsonschema  # ~60 ms of imports: paid by kernels with such a rule only

        validator_class = jsonschema.validators.validator_for(
            schema, jsonschema.Draft202012Validator
        )
        try:
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as error:
            raise RuleInvalid(f"invalid JSON schema: {error.message}") from None
        self.validator = validator_class(schema)

    def violations(self, ctx, runtime, check):
        value = check.record.get(self.field)
        if value is None:
            return
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                yield self.violation("schema_mismatch")
                return
        error = next(iter(self.validator.iter_errors(value)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            detail = f" ({where + ': ' if where else ''}{error.message})"
            yield self.violation("schema_mismatch", self.message + detail)


class ConditionalRule(Rule):
    def __init__(
        self,
        spec: Mapping[str, Any],
        field: str,
        when: CelProgram,
        then: Rule,
        otherwise: Rule | None,
    ) -> None:
        super().__init__(spec, field)
        self.when, self.then, self.otherwise = when, then, otherwise

    def violations(self, ctx, runtime, check):
        outcome = _evaluate(self, self.when, check)
        if isinstance(outcome, Violation):
            yield outcome
            return
        branch = self.then if outcome else self.otherwise
        if branch is not None and branch.applies(check.event):
            yield from branch.violations(ctx, runtime, check)


class UniqueRule(Rule):
    def __init__(self, spec: Mapping[str, Any], field: str, fields: list[str]) -> None:
        super().__init__(spec, field)
        self.fields = fields
        self.case_sensitive = spec.get("caseSensitive", True) is not False

    def violations(self, ctx, runtime, check):
        lookup = {}
        for name in self.fields:
            value = check.record.get(name)
            if value is None:
                return  # SQL semantics: nulls are never equal
            attribute = runtime.attnames.get(name, name)
            if isinstance(value, str) and not self.case_sensitive:
                lookup[f"{attribute}__iexact"] = value
            else:
                lookup[attribute] = value
        rows = runtime.model._base_manager.filter(**lookup)
        if check.record.get("id") is not None:
            rows = rows.exclude(pk=check.record["id"])
        if rows.exists():
            yield self.violation("unique")
