"""Validation rules of the artifact, compiled once per kernel into `ObjectRuntime.validators`.

Each object's `validations` (types `script`, `cross_field`, `state_machine`, `format`,
`json_schema`, `conditional`, `unique`) become one `ObjectValidator`, called by objectql
inside the write transaction before a create or update is written (see the kernel's
validator call point). Semantics, one choice each:

- `script` / `cross_field`: the CEL `condition` describes the *invalid* record: true
  refuses the write. `record` is the after-state, `previous` the before-state (null on
  insert); bare field names (older artifacts) read the after-state too.
- `state_machine`: on update, a changed `field` must move along `transitions`
  (`{from: [to, ...]}`); on insert any declared state is accepted (there is no "from").
- `format`: `regex` (searched, anchors as written) or `format` email|url|phone|json,
  checked when the field has a value.
- `json_schema`: the field's value must match `schema` (JSON Schema draft 2020-12).
- `conditional`: `when` (CEL) picks the nested rule `then`, else `otherwise`.
- `unique`: no other row has the same values of `fields` (optionally case-insensitive).

Rules run in `priority` order (lower first, then as written); inactive rules and rules
whose `events` exclude the write are skipped. Every failing `error` rule is listed:
400 `VALIDATION_FAILED` with `fields: [{field, code, message, rule}]`. `warning` and `info`
rules never refuse: each hit is appended to the audit trail as `validation.warning` in the
write's transaction and logged. A rule that cannot be compiled (bad CEL, unknown dialect,
bad regex or schema, unknown field) is reported when the artifact is loaded
(`validation_problems`) and fails closed at run time: it refuses every write it applies to
with code `rule_invalid`. A condition that fails while evaluating refuses likewise
(`rule_error`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from apps.audit import record as audit
from apps.automation.validation_rules import (
    BLOCKING,
    EVENTS,
    BrokenRule,
    Check,
    ConditionalRule,
    ConditionRule,
    FormatRule,
    JsonSchemaRule,
    Rule,
    RuleInvalid,
    StateMachineRule,
    UniqueRule,
    Violation,
)
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql.exceptions import ValidationFailed
from apps.projects.context import Context
from apps.security.rules import CelProgram, compile_cel
from apps.security.rules.cel_ast import Call, Has, Ident, Node, Select
from apps.security.rules.exceptions import RuleError

logger = logging.getLogger("objectos.validation")


# -- compiling ------------------------------------------------------------------------


def _source(value: Any, what: str) -> str:
    """CEL source of `{dialect, source}` or a plain string."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        dialect = value.get("dialect", "cel")
        if dialect != "cel":
            raise RuleInvalid(f"{what} uses dialect '{dialect}'; only cel is supported")
        if isinstance(value.get("source"), str) and value["source"].strip():
            return value["source"]
    raise RuleInvalid(f"{what} must be a CEL expression")


def _program(runtime: ObjectRuntime, value: Any, what: str) -> CelProgram:
    source = _source(value, what)
    try:
        program = compile_cel(source)
    except RuleError as error:
        raise RuleInvalid(f"{what} does not compile: {error}") from None
    unknown = sorted(set(read_fields(program.ast)) - _known_fields(runtime))
    if unknown:
        raise RuleInvalid(f"{what} reads unknown field(s) {', '.join(unknown)}")
    return program


def _known_fields(runtime: ObjectRuntime) -> set[str]:
    return {*runtime.fields, *runtime.attnames, "id"}


_ROOTS = ("record", "previous")


def read_fields(node: Node, *, blank_only: bool = False) -> list[str]:
    """Fields a condition reads as `record.x`/`previous.x` (or bare `x`), in order; with
    `blank_only`, only those tested by `isBlank(...)`."""
    found: list[str] = []

    def walk(current: Any, inside_blank: bool) -> None:
        if isinstance(current, Select) and isinstance(current.operand, Ident):
            if current.operand.name in _ROOTS and (inside_blank or not blank_only):
                found.append(current.field)
            return
        if isinstance(current, Ident):
            if current.name not in _ROOTS and (inside_blank or not blank_only):
                found.append(current.name)
            return
        if isinstance(current, Has):
            walk(current.select, inside_blank)
            return
        blank = inside_blank or (isinstance(current, Call) and current.name == "isBlank")
        for name in getattr(current, "__slots__", ()):
            child = getattr(current, name)
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, tuple):
                    for sub in item:
                        walk(sub, blank)
                elif isinstance(item, Node):
                    walk(item, blank)

    walk(node, False)
    return list(dict.fromkeys(found))


def _named_field(spec: Mapping[str, Any], program: CelProgram | None) -> str:
    """The field a problem names: the declared `field`/`fields[0]`, else the field the
    condition tests with isBlank, else the first field it reads."""
    if isinstance(spec.get("field"), str):
        return spec["field"]
    fields = spec.get("fields")
    if isinstance(fields, list) and fields and isinstance(fields[0], str):
        return fields[0]
    if program is not None:
        candidates = read_fields(program.ast, blank_only=True) or read_fields(program.ast)
        if candidates:
            return candidates[0]
    return ""


def compile_rule(runtime: ObjectRuntime, spec: Any, depth: int = 0) -> Rule:
    """The compiled rule for `spec`; a BrokenRule (fails closed) when it cannot compile."""
    if not isinstance(spec, dict):
        return BrokenRule({}, "", "a validation rule must be a JSON object")
    try:
        return _compile(runtime, spec, depth)
    except RuleInvalid as error:
        return BrokenRule(spec, _declared_field(spec), str(error))


def _declared_field(spec: Mapping[str, Any]) -> str:
    return _named_field(spec, None)


def _compile(runtime: ObjectRuntime, spec: Mapping[str, Any], depth: int) -> Rule:
    kind = spec.get("type")
    if kind in ("script", "cross_field"):
        program = _program(runtime, spec.get("condition"), "condition")
        return ConditionRule(spec, _named_field(spec, program), program)
    if kind == "conditional":
        if depth > 8:
            raise RuleInvalid("conditional rules nested too deeply")
        when = _program(runtime, spec.get("when"), "when")
        if not isinstance(spec.get("then"), dict):
            raise RuleInvalid("conditional rule needs a 'then' rule")
        then = compile_rule(runtime, spec["then"], depth + 1)
        otherwise = spec.get("otherwise")
        other = compile_rule(runtime, otherwise, depth + 1) if otherwise is not None else None
        for branch in (then, other):
            if isinstance(branch, BrokenRule):
                raise RuleInvalid(f"nested rule '{branch.name}': {branch.error}")
        return ConditionalRule(spec, then.field, when, then, other)
    if kind in ("state_machine", "format", "json_schema"):
        field = spec.get("field")
        if not isinstance(field, str) or field not in _known_fields(runtime):
            raise RuleInvalid(f"{kind} rule names unknown field {field!r}")
        rule_class = {
            "state_machine": StateMachineRule,
            "format": FormatRule,
            "json_schema": JsonSchemaRule,
        }[kind]
        return rule_class(spec, field)
    if kind == "unique":
        fields = spec.get("fields")
        if not isinstance(fields, list) or not fields:
            raise RuleInvalid("unique rule needs a list of fields")
        unknown = [f for f in fields if f not in _known_fields(runtime)]
        if unknown:
            raise RuleInvalid(f"unique rule names unknown field(s) {', '.join(map(str, unknown))}")
        return UniqueRule(spec, fields[0], fields)
    raise RuleInvalid(f"unsupported validation rule type {kind!r}")


# -- running --------------------------------------------------------------------------


class ObjectValidator:
    """The compiled rules of one object; called as `validator(ctx, runtime, event, record,
    previous)` by objectql (see `ObjectRuntime.validators`)."""

    def __init__(self, object_name: str, rules: list[Rule]) -> None:
        self.object_name = object_name
        indexed = sorted(enumerate(rules), key=lambda pair: (pair[1].priority, pair[0]))
        self.rules = tuple(rule for _, rule in indexed)
        self.by_event = {
            event: tuple(rule for rule in self.rules if rule.applies(event)) for event in EVENTS
        }

    def __repr__(self) -> str:
        return f"<ObjectValidator {self.object_name}: {len(self.rules)} rule(s)>"

    def __call__(
        self,
        ctx: Context,
        runtime: ObjectRuntime,
        event: str,
        record: Mapping[str, Any],
        previous: Mapping[str, Any] | None,
    ) -> None:
        rules = self.by_event.get(event, ())
        if not rules:
            return
        activation = {**record, "record": record, "previous": previous}
        check = Check(event, record, previous, activation)
        errors: list[Violation] = []
        for rule in rules:
            for violation in rule.violations(ctx, runtime, check):
                if violation.severity == BLOCKING:
                    errors.append(violation)
                else:
                    _warn(ctx, runtime, record, violation)
        if errors:
            raise ValidationFailed(
                "; ".join(dict.fromkeys(v.message for v in errors)),
                fields=[v.problem() for v in errors],
            )


def _warn(ctx: Context, runtime: ObjectRuntime, record: Mapping[str, Any], hit: Violation) -> None:
    """A warning rule's hit: logged, and audited in the write's transaction."""
    logger.warning(
        "validation warning %s on %s: %s",
        hit.rule,
        runtime.name,
        hit.message,
        extra={"request_id": getattr(ctx, "request_id", "")},
    )
    audit.record(
        ctx,
        "validation.warning",
        object_name=runtime.name,
        record_id=str(record.get("id") or ""),
        details={
            "rule": hit.rule,
            "field": hit.field,
            "code": hit.code,
            "message": hit.message,
            "severity": hit.severity,
        },
    )


def object_validator(runtime: ObjectRuntime) -> ObjectValidator | None:
    """The compiled validator of the object's rules; None when it has none."""
    specs = runtime.definition.validations or []
    if not specs:
        return None
    return ObjectValidator(runtime.name, [compile_rule(runtime, spec) for spec in specs])


def attach_validators(kernel: Kernel) -> None:
    """`on_kernel_build` hook: append each object's compiled rules to its validators."""
    for runtime in kernel.objects.values():
        validator = object_validator(runtime)
        if validator is None:
            continue
        runtime.validators.append(validator)
        for rule in validator.rules:
            if isinstance(rule, BrokenRule):
                logger.warning(
                    "validation rule %s.%s fails closed: %s", runtime.name, rule.name, rule.error
                )


def validation_problems(kernel: Kernel) -> list[str]:
    """One line per rule that cannot be compiled (it would refuse every write), for
    `load_artifact`."""
    problems = []
    for index, obj in enumerate(kernel.artifact.objects):
        runtime = kernel.objects[obj.name]
        for position, spec in enumerate(obj.validations or []):
            rule = compile_rule(runtime, spec)
            if isinstance(rule, BrokenRule):
                problems.append(
                    f"objects[{index}].validations[{position}]: rule '{rule.name}' of "
                    f"{obj.name} {rule.error}; it refuses every write it applies to"
                )
    return problems
