"""Compile an API filter (Mongo-style JSON or the array form) into one Django `Q`.

Two spellings of one grammar (README "API", ObjectStack protocol 17):

- Mongo-style: `{"amount": {"$gt": 100}, "status": "open", "$or": [{...}, {...}]}`. A
  bare value means `$eq`, `null` means IS NULL, several operators on one field and
  several keys are AND-ed; `$and`/`$or` take lists, `$not` an object (at the top level
  or inside a field: `{"amount": {"$not": {"$gt": 5}}}`).
- Array form: `["and", [f, op, v], ["or", [...], [...]]]`, `["not", [...]]`, or one
  condition `[f, op, v]` (`[f, "is null"]` may omit the value). Operators: see
  `ARRAY_OPERATORS` and every canonical `$` name.

`$not` is the exact complement of its operand: it matches rows where the inner filter
is false *or* the column is NULL (JSON sense, as in MongoDB). Field names go only
through `resolver.resolve`; values only become query parameters.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.security.rules.conditions import (
    FILTER_OPERATORS,
    field_condition,
    match_all,
    match_nothing,
)
from apps.security.rules.exceptions import InvalidFilter
from apps.security.rules.resolver import FieldResolver

MAX_DEPTH = 16
MAX_CONDITIONS = 200

ARRAY_OPERATORS: dict[str, str] = {
    "=": "$eq",
    "==": "$eq",
    "eq": "$eq",
    "!=": "$ne",
    "<>": "$ne",
    "ne": "$ne",
    ">": "$gt",
    ">=": "$gte",
    "<": "$lt",
    "<=": "$lte",
    "in": "$in",
    "not in": "$nin",
    "nin": "$nin",
    "notin": "$nin",
    "between": "$between",
    "contains": "$contains",
    "notcontains": "$notContains",
    "not contains": "$notContains",
    "icontains": "$icontains",
    "startswith": "$startsWith",
    "endswith": "$endsWith",
    "like": "$like",
    "ilike": "$ilike",
    "is null": "$null",
    "null": "$null",
    "is not null": "$notnull",
    "exists": "$exists",
}
LOGICAL_WORDS = {
    "and": "$and",
    "or": "$or",
    "not": "$not",
    "$and": "$and",
    "$or": "$or",
    "$not": "$not",
}


def compile_filter(spec: Any, resolver: FieldResolver) -> Q:
    """The `Q` for a filter in either form; raises InvalidFilter or UnknownField.

    `None`, `{}` and `[]` mean "no filter" (`Q()`).
    """
    if spec is None or spec == {} or spec == []:
        return Q()
    return _Compiler(resolver).node(spec, 1)


class _Compiler:
    """One compilation: the resolver plus the running condition count."""

    def __init__(self, resolver: FieldResolver) -> None:
        self.resolver = resolver
        self.conditions = 0

    def node(self, spec: Any, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise InvalidFilter(None, f"filter is nested deeper than {MAX_DEPTH} levels")
        if isinstance(spec, dict):
            return self.mapping(spec, depth)
        if isinstance(spec, list | tuple):
            return self.array(spec, depth)
        raise InvalidFilter(None, f"a filter must be an object or an array, not {_kind(spec)}")

    # Mongo-style -------------------------------------------------------------------

    def mapping(self, spec: dict[str, Any], depth: int) -> Q:
        parts: list[Q] = []
        for key, value in spec.items():
            if not isinstance(key, str):
                raise InvalidFilter(None, "filter keys must be strings")
            if key in ("$and", "$or"):
                if not isinstance(value, list | tuple):
                    raise InvalidFilter(None, f"'{key}' needs a list of filters")
                parts.append(self.logical(key, value, depth))
            elif key == "$not":
                if not isinstance(value, dict | list | tuple):
                    raise InvalidFilter(None, "'$not' needs a filter object or array")
                parts.append(~self.node(value, depth + 1))
            elif key.startswith("$"):
                raise InvalidFilter(None, f"unknown logical operator '{key}'")
            else:
                parts.append(self.field(key, value, depth))
        return _and(parts)

    def field(self, name: str, value: Any, depth: int) -> Q:
        resolved = self.resolver.resolve(name)
        if not (isinstance(value, dict) and any(str(k).startswith("$") for k in value)):
            return self.condition(resolved, name, "$eq", value)
        parts = []
        for op, operand in value.items():
            if not isinstance(op, str) or not op.startswith("$"):
                raise InvalidFilter(name, f"field '{name}' mixes operators and plain keys")
            if op == "$not":
                if not isinstance(operand, dict) or not operand:
                    raise InvalidFilter(name, f"'$not' on field '{name}' needs operators")
                if depth + 1 > MAX_DEPTH:
                    raise InvalidFilter(None, f"filter is nested deeper than {MAX_DEPTH} levels")
                parts.append(~self.field(name, operand, depth + 1))
            else:
                parts.append(self.condition(resolved, name, op, operand))
        return _and(parts)

    # Array form --------------------------------------------------------------------

    def array(self, spec: list[Any] | tuple[Any, ...], depth: int) -> Q:
        if not spec:
            return match_all()
        head = spec[0]
        if isinstance(head, str) and head.lower() in LOGICAL_WORDS and _is_logical(spec):
            word = LOGICAL_WORDS[head.lower()]
            if word == "$not":
                if len(spec) != 2:
                    raise InvalidFilter(None, "'not' takes exactly one filter")
                return ~self.node(spec[1], depth + 1)
            return self.logical(word, spec[1:], depth)
        if isinstance(head, list | tuple | dict):
            # A bare list of conditions: AND-ed.
            return self.logical("$and", spec, depth)
        if not isinstance(head, str):
            raise InvalidFilter(None, "a condition must start with a field name")
        if len(spec) not in (2, 3) or not isinstance(spec[1], str):
            raise InvalidFilter(head, f"condition on '{head}' must be [field, operator, value]")
        op = _array_operator(head, spec[1])
        resolved = self.resolver.resolve(head)
        if len(spec) == 2:
            if op not in ("$null", "$notnull", "$exists"):
                raise InvalidFilter(head, f"operator '{spec[1]}' on '{head}' needs a value")
            operand: Any = True
        else:
            operand = spec[2]
        if op == "$notnull":
            op, operand = "$null", not operand if isinstance(operand, bool) else operand
        return self.condition(resolved, head, op, operand)

    # Shared ------------------------------------------------------------------------

    def logical(self, word: str, items: Any, depth: int) -> Q:
        parts = [self.node(item, depth + 1) for item in items]
        if word == "$and":
            return _and(parts)
        if not parts:
            return match_nothing()
        result = parts[0]
        for part in parts[1:]:
            result |= part
        return result

    def condition(self, resolved: Any, name: str, op: str, operand: Any) -> Q:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise InvalidFilter(None, f"filter has more than {MAX_CONDITIONS} conditions")
        condition = field_condition(resolved, op, operand, name)
        guard = getattr(resolved, "guard", None)
        return condition if guard is None else condition & guard


def _array_operator(field: str, spelling: str) -> str:
    if spelling in FILTER_OPERATORS:
        return spelling
    op = ARRAY_OPERATORS.get(" ".join(spelling.lower().split()))
    if op is None:
        raise InvalidFilter(field, f"unknown operator '{spelling}' for field '{field}'")
    return op


def _is_logical(spec: list[Any] | tuple[Any, ...]) -> bool:
    """`["and", ...]` is logical unless it reads as a condition on a field named "and"."""
    return len(spec) == 1 or isinstance(spec[1], list | tuple | dict)


def _and(parts: list[Q]) -> Q:
    if not parts:
        return match_all()
    result = parts[0]
    for part in parts[1:]:
        result &= part
    return result


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
