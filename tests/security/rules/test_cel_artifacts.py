"""Every CEL expression of the real protocol-17 artifacts parses, evaluates or fails cleanly.

Expressions are collected from /work/shared/artifacts/*-v17 (`RULES_ARTIFACTS_DIR`
overrides; the module is skipped when the directory is missing): every
`{"dialect": "cel", "source": ...}` and every string under a rule key (`using`,
`check`, `condition`, `visible`, ...). Each one must compile; evaluate over an empty
and a filled record with a value or a CelError; and, when it names a field or a
variable, compile to a `Q` or raise a RuleError. The expressions that cannot become a
row filter are pinned in NOT_ROW_FILTERS with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from apps.fieldtypes.base import (
    ALL_OPS,
    EQUALITY_OPS,
    LIST_OPS,
    ORDER_OPS,
    FieldValueError,
)
from apps.security.rules import (
    CelError,
    ResolvedField,
    RuleError,
    UnknownField,
    compile_cel,
    frozen_now,
)
from apps.security.rules.cel_ast import Ident, parse
from apps.security.rules.cel_q import children

ARTIFACTS = Path(os.environ.get("RULES_ARTIFACTS_DIR", "/work/shared/artifacts"))
RULE_KEYS = {
    "using",
    "check",
    "condition",
    "visible",
    "visibleWhen",
    "readonlyWhen",
    "requiredWhen",
    "disabled",
    "disabledWhen",
    "when",
    "expression",
}
PRESENCE = frozenset({"$null", "$exists"})
# type -> (storage, operators, relational), as apps.fieldtypes declares them.
TYPES: dict[str, tuple[str, frozenset[str], bool]] = {
    **{name: ("text", ALL_OPS, False) for name in (
        "text", "textarea", "email", "url", "phone", "markdown", "html", "richtext",
        "code", "color", "autonumber")},
    **{name: ("text", EQUALITY_OPS, False) for name in ("select", "radio")},
    **{name: ("json_list", LIST_OPS, False) for name in ("multiselect", "checkboxes", "tags")},
    **{name: ("float", EQUALITY_OPS | ORDER_OPS, False) for name in (
        "number", "percent", "slider", "progress", "currency", "rating")},
    **{name: (name, EQUALITY_OPS | ORDER_OPS, False) for name in ("date", "datetime", "time")},
    **{name: ("boolean", EQUALITY_OPS, False) for name in ("boolean", "toggle")},
    **{name: ("reference", EQUALITY_OPS, True) for name in (
        "lookup", "master_detail", "tree", "user")},
    **{name: ("none", frozenset(), False) for name in ("formula", "summary", "password")},
    "json": ("json", PRESENCE | {"$eq"}, False),
    **{name: ("json_object", PRESENCE, False) for name in ("composite", "record")},
    "repeater": ("json_rows", PRESENCE, False),
    "address": ("address", PRESENCE, False),
    "location": ("location", PRESENCE, False),
    "vector": ("vector", PRESENCE, False),
}  # fmt: skip
VARIABLES = {
    "current_user": {"id": "u1", "email": "ada@example.com", "positions": ["admin"]},
    "os": {"user": {"id": "u1"}},
}
NOW = dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)

# Row-filter compilation failures of the real expressions, with the reason (a substring
# of the error). Everything else that names a field or variable compiles to a Q.
NOT_ROW_FILTERS = {
    # arithmetic, functions or sizes of record fields: only evaluate() can do these
    "(record.amount == null ? 0 : record.amount) * (record.probability == null ? 0 : record.probability) / 100": "cannot be compiled to a row filter",
    "(record.budget == null ? 0 : record.budget) - (record.spent == null ? 0 : record.spent)": "cannot be compiled to a row filter",
    "(record.f_number == null ? 0 : record.f_number) * (record.f_percent == null ? 0 : record.f_percent) / 100": "cannot be compiled to a row filter",
    "(record.first_name == null ? '' : record.first_name + ' ') + record.last_name": "cannot be compiled to a row filter",
    "record.quantity * record.unit_price": "cannot be compiled to a row filter",
    "record.close_date == null ? 0 : daysBetween(today(), record.close_date)": "'0' is not a boolean condition",
    "record.budget != null && record.spent != null && record.spent > record.budget * 1.2": "cannot be compiled to a row filter",
    "has(record.f_email) && record.f_email != null && record.f_email.matches(\".*@example[.]com\")": "cannot be compiled to a row filter",
    "has(record.f_lookup) && has(record.f_lookups) && record.f_lookups != null && record.f_lookups.size() > 0 && record.f_lookup == record.f_lookups[0]": "cannot be compiled to a row filter",
    "has(record.f_lookups) && record.f_lookups != null && record.f_lookups.size() > 1": "cannot be compiled to a row filter",
    "has(record.f_repeater) && record.f_repeater != null && record.f_repeater.size() == 2": "cannot be compiled to a row filter",
    "has(record.f_tags) && record.f_tags != null && record.f_tags.size() > 0": "cannot be compiled to a row filter",
    "has(record.f_vector) && record.f_vector != null && record.f_vector.size() == 4": "cannot be compiled to a row filter",
    "has(record.name) && record.name != null && record.name.size() > 0": "cannot be compiled to a row filter",
    "record.is_recurring == true && isBlank(record.recurrence_type)": "cannot be compiled to a row filter",
    "record.status == \"completed\" && isBlank(record.completed_date)": "cannot be compiled to a row filter",
    # the field type does not allow the comparison (formula: not stored; select: no order)
    "has(record.f_formula) && record.f_formula != null && record.f_formula > 100.0": "operator '$ne' is not supported for field 'f_formula'",
    # names that are neither record fields nor variables of a row filter
    "assignee != previous.assignee": "unknown field 'previous.assignee'",
    "budget > 100000 && budget != previous.budget": "unknown field 'previous.budget'",
    "health == \"red\" && previous.health != \"red\"": "unknown field 'previous.health'",
    "previous.done != true && record.done == true": "unknown field 'previous.done'",
    "priority == 'urgent' && (previous == null || previous.priority != 'urgent')": "unknown field 'previous'",
    "status == \"completed\" && previous.status != \"completed\"": "unknown field 'previous.status'",
    "status == \"done\" && previous.status != \"done\"": "unknown field 'previous.status'",
    "status == \"sent\" && previous.status != \"sent\"": "unknown field 'previous.status'",
    "status == \"submitted\" && previous.status != \"submitted\"": "unknown field 'previous.status'",
    "status == \"submitted\" && previous.status != \"submitted\" && total_amount >= 5000": "unknown field 'previous.status'",
    "title != previous.title": "unknown field 'previous.title'",
    "lead_record.status == 'converted'": "unknown field 'lead_record.status'",
    "page.inquiryEmail != ''": "unknown field 'page.inquiryEmail'",
    "page.selectedProjectId != ''": "unknown field 'page.selectedProjectId'",
    "page.selectedProjectId == ''": "unknown field 'page.selectedProjectId'",
    "size(closedInquiries) == 0": "cannot be compiled to a row filter",
    "size(closedInquiries) > 0": "cannot be compiled to a row filter",
    "vars.completedTask.is_recurring != true": "unknown field 'vars.completedTask.is_recurring'",
    "vars.completedTask.is_recurring == true": "unknown field 'vars.completedTask.is_recurring'",
}  # fmt: skip


def _collect() -> dict[str, str]:
    """source -> "artifact: json.path" of its first occurrence."""
    found: dict[str, str] = {}

    def walk(node: Any, path: str, artifact: str) -> None:
        if isinstance(node, dict):
            if node.get("dialect") == "cel" and isinstance(node.get("source"), str):
                found.setdefault(node["source"], f"{artifact}: {path}")
            for key, value in node.items():
                if key in RULE_KEYS and isinstance(value, str) and value.strip():
                    found.setdefault(value, f"{artifact}: {path}.{key}")
                walk(value, f"{path}.{key}", artifact)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]", artifact)

    for file in sorted(ARTIFACTS.glob("*-v17/objectstack.json")):
        walk(json.loads(file.read_text()), "$", file.parent.name)
    return found


def _field_types() -> dict[str, tuple[str, bool]]:
    """field name -> (type, multiple), over every object of the artifacts."""
    types: dict[str, tuple[str, bool]] = {}
    for file in sorted(ARTIFACTS.glob("*-v17/objectstack.json")):
        for obj in json.loads(file.read_text()).get("objects", []):
            fields = obj.get("fields", {})
            items = (
                fields.items() if isinstance(fields, dict) else [(f.get("name"), f) for f in fields]
            )
            for name, definition in items:
                types.setdefault(name, (definition.get("type"), bool(definition.get("multiple"))))
    return types


EXPRESSIONS = _collect() if ARTIFACTS.is_dir() else {}
pytestmark = pytest.mark.skipif(not EXPRESSIONS, reason=f"no artifacts under {ARTIFACTS}")


class _Field:
    def __init__(self, name: str, type_name: str, multiple: bool = False) -> None:
        self.name = name
        self.type = type_name
        self.multiple = multiple


class _Type:
    def __init__(self, name: str, storage: str, operators: frozenset[str], relational: bool):
        self.name = name
        self.storage = storage
        self.operators = operators
        self.relational = relational

    def filter_operand(self, field: Any, op: str, value: Any) -> Any:
        if self.storage == "date" and isinstance(value, dt.datetime):
            raise FieldValueError("invalid_date", f"'{field.name}' needs a date, not a datetime")
        return value


class ArtifactResolver:
    """Fields of every object in the artifacts; `a.b` through a relation or a JSON key."""

    def __init__(self) -> None:
        self.types = _field_types()

    def resolve(self, path: str) -> ResolvedField:
        head, _, rest = path.partition(".")
        if head not in self.types:
            raise UnknownField(path)
        type_name, multiple = self.types[head]
        storage, operators, relational = TYPES.get(type_name, ("text", ALL_OPS, False))
        if multiple and relational:
            storage, operators, relational = "json_ids", LIST_OPS, False
        if not rest:
            fieldtype = _Type(type_name, storage, operators, relational)
            return ResolvedField(head, _Field(head, type_name, multiple), fieldtype)
        if relational or storage in ("json", "json_object", "address", "location"):
            fieldtype = _Type("text", "text", ALL_OPS, False)
            return ResolvedField(path.replace(".", "__"), _Field(path, "text"), fieldtype)
        raise UnknownField(path)


def _names_something(source: str) -> bool:
    def walk(node: Any) -> bool:
        return isinstance(node, Ident) or any(walk(child) for child in children(node))

    return walk(parse(source))


def _sample_record() -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, (type_name, multiple) in _field_types().items():
        storage = TYPES.get(type_name, ("text",))[0]
        record[name] = {
            "json_list": ["red", "email"],
            "float": 150,
            "date": dt.date(2024, 1, 1),
            "datetime": dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
            "time": "14:30:00",
            "boolean": True,
            "reference": ["a1", "a2"] if multiple else "a1",
            "json": {"nested": {"k": "v"}},
            "json_object": {"width": 10, "primary": {"score": 9}},
            "json_rows": [{"a": 1}, {"a": 2}],
            "address": {"country": "US"},
            "location": {"lat": 48.1},
            "vector": [0.1, 0.2, 0.3, 0.4],
        }.get(storage, "ok text")
    return record


@pytest.mark.parametrize("source", sorted(EXPRESSIONS))
def test_real_expression(source):
    program = compile_cel(source)  # every real expression parses and compiles
    filled = {"record": _sample_record(), **VARIABLES, **_sample_record()}
    for activation in ({"record": {}}, filled):
        try:
            program.evaluate(activation)
        except CelError:
            pass
    if not _names_something(source):
        return
    try:
        program.to_q(ArtifactResolver(), VARIABLES)
    except RuleError as error:
        assert source in NOT_ROW_FILTERS, f"{source!r} ({EXPRESSIONS[source]}): {error}"
        assert NOT_ROW_FILTERS[source] in str(error)
    else:
        assert source not in NOT_ROW_FILTERS, f"{source!r} compiles now"


def test_row_filter_rules_of_the_artifacts_compile():
    """The RLS `using` clauses and sharing-rule conditions all become a Q."""
    rules = [
        source
        for source, where in EXPRESSIONS.items()
        if "rowLevelSecurity" in where or "sharingRules" in where
    ]
    assert rules
    for source in rules:
        compile_cel(source).to_q(ArtifactResolver(), VARIABLES)


def test_real_seed_expressions_evaluate():
    with_clock = [s for s in EXPRESSIONS if s.startswith(("daysAgo(", "daysFromNow(", "today("))]
    assert with_clock
    with frozen_now(NOW):
        for source in with_clock:
            value = compile_cel(source).evaluate({})
            assert isinstance(value, dt.date)
        assert compile_cel('daysAgo(14) + duration("11h15m")').evaluate({}) == dt.datetime(
            2024, 3, 17, 11, 15, tzinfo=dt.UTC
        )
