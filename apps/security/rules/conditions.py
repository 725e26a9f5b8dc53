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
from apps.security.rules.lookups import (
    JsonListContains,
    JsonListEmpty,
    Like,
    literal_tokens,
    parse_like,
)
from apps.security.rules.resolver import ResolvedField

# The empty IN list makes Django skip the query part: matches no row. Its negation (what
# MATCH_ALL is) matches every row and, unlike `Q()`, stays correct under `~`. Compare
# with these; build new ones with match_nothing()/match_all() before combining.
MATCH_NOTHING = Q(pk__in=[])
MATCH_ALL = ~Q(pk__in=[])


def match_nothing() -> Q:
    """A fresh `Q` matching no row."""
    return Q(pk__in=[])


def match_all() -> Q:
    """A fresh `Q` matching every row, also under negation (unlike `Q()`)."""
    return ~Q(pk__in=[])


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


# Storage families holding a JSON array of scalars (multiselect, checkboxes, tags,
# multiple lookups and users). A field type may also declare `list_valued = True`.
LIST_STORAGES = frozenset({"json_list", "json_ids", "json_user_ids"})
# Storage families kept in a JSON column that are not lists (maps, documents).
JSON_STORAGES = frozenset({"json", "json_object", "json_rows", "address", "location"})


def operators_of(resolved: ResolvedField) -> frozenset[str]:
    """The operators the field accepts (`operators_for(field)` when the type has it)."""
    fieldtype = resolved.fieldtype
    if hasattr(fieldtype, "operators_for"):
        return fieldtype.operators_for(resolved.field)
    return fieldtype.operators


def storage_of(resolved: ResolvedField) -> str:
    """The storage family of the field (`storage_for(field)` when the type has it)."""
    fieldtype = resolved.fieldtype
    if hasattr(fieldtype, "storage_for"):
        return fieldtype.storage_for(resolved.field)
    return fieldtype.storage


def is_list_field(resolved: ResolvedField) -> bool:
    """True for a JSON-array column (`$contains` means "has element")."""
    return storage_of(resolved) in LIST_STORAGES or getattr(
        resolved.fieldtype, "list_valued", False
    )


def is_json_field(resolved: ResolvedField) -> bool:
    """True for any column stored as JSON (lists included)."""
    storage = storage_of(resolved)
    return is_list_field(resolved) or storage in JSON_STORAGES or storage.startswith("json")


def is_null(resolved: ResolvedField, value: bool = True) -> Q:
    """IS NULL (`value` true) or IS NOT NULL on the resolved column."""
    return Q(**{f"{resolved.lookup}__isnull": value})


def field_condition(resolved: ResolvedField, op: str, operand: Any, name: str | None = None) -> Q:
    """The `Q` for `<field> <op> <operand>`; raises InvalidFilter for anything unusable.

    `name` is the field path as the client wrote it (used in error messages and `.field`).
    Operands go through `fieldtype.filter_operand(field, op, operand)` whole: a list for
    `$in`/`$nin`/`$between` (nulls removed first), a flag for `$null`/`$exists`.
    """
    name = name or _field_name(resolved)
    if op not in FILTER_OPERATORS:
        raise InvalidFilter(name, f"unknown operator '{op}' for field '{name}'")
    operators = operators_of(resolved)
    null_test = op in ("$eq", "$ne") and operand is None and "$null" in operators
    if op not in operators and not null_test:
        type_name = getattr(resolved.field, "type", None) or getattr(
            resolved.fieldtype, "name", "?"
        )
        raise InvalidFilter(
            name, f"operator '{op}' is not supported for field '{name}' of type '{type_name}'"
        )
    lookup = resolved.lookup
    if op in ("$null", "$exists"):
        flag = _operand(resolved, op, operand, name)
        if not isinstance(flag, bool):
            raise InvalidFilter(name, f"operator '{op}' needs true or false for field '{name}'")
        missing = flag if op == "$null" else not flag
        if is_list_field(resolved):  # no value: NULL or the empty list
            empty = is_null(resolved) | Q(JsonListEmpty(F(lookup)))
            return empty if missing else ~empty
        return is_null(resolved, missing)
    if op in ("$eq", "$ne") and operand is None:
        return is_null(resolved, op == "$eq")
    if is_list_field(resolved) or (op in ("$contains", "$notContains") and is_json_field(resolved)):
        return _list_condition(resolved, op, operand, name)
    if op in ("$eq", "$ne"):
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
        low, high = _operand_list(resolved, op, list(operand), name)
        return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
    if is_json_field(resolved):
        raise InvalidFilter(name, f"operator '{op}' is not supported on JSON field '{name}'")
    text = _text_operand(resolved, op, operand, name)
    if op in ("$like", "$ilike"):
        return Q(Like(F(lookup), parse_like(text), case_sensitive=op == "$like"))
    prefix, suffix, case_sensitive = PATTERN_OPS["$contains" if op == "$notContains" else op]
    tokens = literal_tokens(text, prefix=prefix, suffix=suffix)
    condition = Q(Like(F(lookup), tokens, case_sensitive=case_sensitive))
    return ~condition | is_null(resolved) if op == "$notContains" else condition


def _list_condition(resolved: ResolvedField, op: str, operand: Any, name: str) -> Q:
    """Operators on a JSON-array column: element tests, never SQL LIKE."""
    lookup = resolved.lookup
    if op in ("$in", "$nin"):
        items = _list_operand(op, operand, name)
        values = _operand_list(resolved, op, items, name) if items else []
        any_of = match_nothing()
        for value in values:
            any_of |= Q(JsonListContains(F(lookup), _element(value, op, name)))
        return any_of if op == "$in" else ~any_of | is_null(resolved)
    if op not in ("$eq", "$contains", "$notContains"):
        raise InvalidFilter(name, f"operator '{op}' is not supported on list field '{name}'")
    value = _operand(resolved, op, operand, name)
    if op == "$eq" and isinstance(value, list | tuple):
        return Q(**{lookup: list(value)})  # the whole list equals this list
    has_element = Q(JsonListContains(F(lookup), _element(value, op, name)))
    return ~has_element | is_null(resolved) if op == "$notContains" else has_element


def _element(value: Any, op: str, name: str) -> Any:
    if value is None or isinstance(value, dict | list | tuple):
        raise InvalidFilter(name, f"operator '{op}' needs a single value for field '{name}'")
    return value


def _list_operand(op: str, operand: Any, name: str) -> list[Any]:
    if not isinstance(operand, list | tuple):
        raise InvalidFilter(name, f"operator '{op}' needs a list for field '{name}'")
    if len(operand) > MAX_LIST_OPERAND:
        raise InvalidFilter(
            name, f"operator '{op}' takes at most {MAX_LIST_OPERAND} values for field '{name}'"
        )
    return list(operand)


def compare_fields(left: ResolvedField, op: str, right: ResolvedField) -> Q:
    """`left <op> right` for two columns (`$eq $ne $gt $gte $lt $lte`), CEL NULL semantics.

    Equal when both are NULL; `$ne` true when exactly one is NULL; ordering never
    matches a NULL on either side.
    """
    for resolved in (left, right):
        if op not in operators_of(resolved):
            name = _field_name(resolved)
            raise InvalidFilter(name, f"operator '{op}' is not supported for field '{name}'")
    if storage_of(left) != storage_of(right) or is_list_field(left):
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
    items = _list_operand(op, operand, name)
    if not items:
        return match_nothing() if op == "$in" else match_all()
    present = [item for item in items if item is not None]
    with_null = len(present) != len(items)
    values = _operand_list(resolved, op, present, name) if present else []
    found = Q(**{f"{resolved.lookup}__in": values}) if values else match_nothing()
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


def _operand_list(resolved: ResolvedField, op: str, items: list[Any], name: str) -> list[Any]:
    values = _operand(resolved, op, items, name)
    if not isinstance(values, list | tuple) or len(values) != len(items):
        raise InvalidFilter(name, f"operator '{op}' needs a list for field '{name}'")
    return list(values)


def _text_operand(resolved: ResolvedField, op: str, operand: Any, name: str) -> str:
    if not isinstance(operand, str):
        raise InvalidFilter(name, f"operator '{op}' needs a string for field '{name}'")
    value = _operand(resolved, op, operand, name)
    if not isinstance(value, str):
        raise InvalidFilter(name, f"operator '{op}' needs a string for field '{name}'")
    return value


def _field_name(resolved: ResolvedField) -> str:
    return str(getattr(resolved.field, "name", None) or resolved.lookup)
