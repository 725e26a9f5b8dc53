"""One field, one operator, one operand -> one `Q`: the atoms shared by filters and CEL.

`field_condition(resolved, op, operand)` is the only place a filter operator becomes SQL.
It checks the operator against the field type, coerces operands through
`fieldtype.filter_operand` and builds the `Q`. NULL behaviour is explicit and identical
on SQLite and PostgreSQL:

- `$eq null` / `$ne null` mean IS NULL / IS NOT NULL.
- `$ne`, `$nin` and `$notContains` match NULL rows ("not equal" in the JSON sense).
- ordering, `$between`, `$in`, `$contains` and the pattern operators never match NULL.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from apps.fieldtypes.base import FieldValueError
from apps.security.rules.exceptions import InvalidFilter
from apps.security.rules.lookups import JsonListContains, Like, literal_tokens, parse_like
from apps.security.rules.resolver import ResolvedField

# The empty IN list makes Django skip the query part: matches no row. Its negation (what
# MATCH_ALL is) matches every row and, unlike `Q()`, stays correct under `~`.
MATCH_NOTHING = Q(pk__in=[])
MATCH_ALL = ~Q(pk__in=[])

# Largest `$in`/`$nin` list accepted (each element is one query parameter).
MAX_LIST_OPERAND = 5000

ORDER_LOOKUPS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
PATTERN_OPS = {
    # op: (prefix any-run, suffix any-run, case sensitive)
    "$contains": (True, True, True),
    "$icontains": (True, True, False),
    "$startsWith": (False, True, True),
    "$endsWith": (True, False, True),
}
FILTER_OPERATORS = frozenset(
    {
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$between",
        "$contains",
        "$notContains",
        "$icontains",
        "$startsWith",
        "$endsWith",
        "$like",
        "$ilike",
        "$null",
        "$exists",
    }
)


def is_null(resolved: ResolvedField, value: bool = True) -> Q:
    """IS NULL (`value` true) or IS NOT NULL on the resolved column."""
    return Q(**{f"{resolved.lookup}__isnull": value})


def field_condition(resolved: ResolvedField, op: str, operand: Any, name: str | None = None) -> Q:
    """The `Q` for `<field> <op> <operand>`; raises InvalidFilter for anything unusable.

    `name` is the field path as the client wrote it (used in error messages and `.field`).
    """
    name = name or _field_name(resolved)
    if op not in FILTER_OPERATORS:
        raise InvalidFilter(name, f"unknown operator '{op}' for field '{name}'")
    if op not in resolved.fieldtype.operators:
        type_name = getattr(resolved.field, "type", None) or getattr(
            resolved.fieldtype, "name", "?"
        )
        raise InvalidFilter(
            name, f"operator '{op}' is not supported for field '{name}' of type '{type_name}'"
        )
    lookup = resolved.lookup
    if op in ("$null", "$exists"):
        if not isinstance(operand, bool):
            raise InvalidFilter(name, f"operator '{op}' needs true or false for field '{name}'")
        return is_null(resolved, operand if op == "$null" else not operand)
    if op in ("$eq", "$ne"):
        if operand is None:
            return is_null(resolved, op == "$eq")
        value = _operand(resolved, op, operand, name)
        if op == "$eq":
            return Q(**{lookup: value})
        return ~Q(**{lookup: value}) | is_null(resolved)
    if op in ORDER_LOOKUPS:
        if operand is None:
            raise InvalidFilter(name, f"operator '{op}' cannot compare field '{name}' with null")
        return Q(**{f"{lookup}__{ORDER_LOOKUPS[op]}": _operand(resolved, op, operand, name)})
    if op in ("$in", "$nin"):
        return _membership(resolved, op, operand, name)
    if op == "$between":
        if not isinstance(operand, list | tuple) or len(operand) != 2 or None in operand:
            raise InvalidFilter(name, f"operator '$between' needs [low, high] for field '{name}'")
        low, high = (_operand(resolved, op, item, name) for item in operand)
        return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
    if op in ("$contains", "$notContains") and resolved.fieldtype.storage == "json":
        value = _operand(resolved, op, operand, name)
        if value is None or isinstance(value, dict | list | tuple):
            raise InvalidFilter(name, f"operator '{op}' needs a single value for field '{name}'")
        condition = Q(JsonListContains(F(lookup), value))
        return condition if op == "$contains" else ~condition | is_null(resolved)
    if resolved.fieldtype.storage == "json":
        raise InvalidFilter(name, f"operator '{op}' is not supported on list field '{name}'")
    text = _text_operand(resolved, op, operand, name)
    if op in ("$like", "$ilike"):
        return Q(Like(F(lookup), parse_like(text), case_sensitive=op == "$like"))
    prefix, suffix, case_sensitive = PATTERN_OPS["$contains" if op == "$notContains" else op]
    tokens = literal_tokens(text, prefix=prefix, suffix=suffix)
    condition = Q(Like(F(lookup), tokens, case_sensitive=case_sensitive))
    return ~condition | is_null(resolved) if op == "$notContains" else condition


def compare_fields(left: ResolvedField, op: str, right: ResolvedField) -> Q:
    """`left <op> right` for two columns (`$eq $ne $gt $gte $lt $lte`), CEL NULL semantics.

    Equal when both are NULL; `$ne` true when exactly one is NULL; ordering never
    matches a NULL on either side.
    """
    for resolved in (left, right):
        if op not in resolved.fieldtype.operators:
            name = _field_name(resolved)
            raise InvalidFilter(name, f"operator '{op}' is not supported for field '{name}'")
    if left.fieldtype.storage != right.fieldtype.storage:
        raise InvalidFilter(
            _field_name(left),
            f"fields '{_field_name(left)}' and '{_field_name(right)}' cannot be compared",
        )
    other = F(right.lookup)
    both_set = is_null(left, False) & is_null(right, False)
    if op in ORDER_LOOKUPS:
        return Q(**{f"{left.lookup}__{ORDER_LOOKUPS[op]}": other})
    same = both_set & Q(**{left.lookup: other})
    both_null = is_null(left) & is_null(right)
    if op == "$eq":
        return same | both_null
    one_null = (is_null(left) & is_null(right, False)) | (is_null(left, False) & is_null(right))
    return (both_set & ~Q(**{left.lookup: other})) | one_null


def _membership(resolved: ResolvedField, op: str, operand: Any, name: str) -> Q:
    if not isinstance(operand, list | tuple):
        raise InvalidFilter(name, f"operator '{op}' needs a list for field '{name}'")
    if len(operand) > MAX_LIST_OPERAND:
        raise InvalidFilter(
            name, f"operator '{op}' takes at most {MAX_LIST_OPERAND} values for field '{name}'"
        )
    if not operand:
        return MATCH_NOTHING if op == "$in" else MATCH_ALL
    values = [_operand(resolved, op, item, name) for item in operand if item is not None]
    with_null = len(values) != len(operand)
    found = Q(**{f"{resolved.lookup}__in": values}) if values else MATCH_NOTHING
    if op == "$in":
        return found | is_null(resolved) if with_null else found
    if with_null:
        return ~found & is_null(resolved, False)
    return ~found | is_null(resolved)


def _operand(resolved: ResolvedField, op: str, value: Any, name: str) -> Any:
    try:
        return resolved.fieldtype.filter_operand(resolved.field, op, value)
    except FieldValueError as error:
        raise InvalidFilter(name, error.message)


def _text_operand(resolved: ResolvedField, op: str, operand: Any, name: str) -> str:
    if not isinstance(operand, str):
        raise InvalidFilter(name, f"operator '{op}' needs a string for field '{name}'")
    value = _operand(resolved, op, operand, name)
    if not isinstance(value, str):
        raise InvalidFilter(name, f"operator '{op}' needs a string for field '{name}'")
    return value


def _field_name(resolved: ResolvedField) -> str:
    return str(getattr(resolved.field, "name", None) or resolved.lookup)
