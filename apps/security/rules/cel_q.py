"""Compile a boolean CEL AST over `record.<field>` into a Django `Q` (row filters).

Every identifier other than the record is a constant read from `variables` at compile
time (`current_user.email`, `os.user.id`), and so is every sub-expression without a
record field (`today()`, `daysAgo(7)`, `'admin' in current_user.positions`): such parts
are evaluated once, here, with the evaluation compiler. A variable path missing from
`variables` is a CelError (fail closed), never a silent null. With `bare_fields`, an
identifier that is not a variable is a field of the record (`assignee ==
current_user.email`, the form RLS `using` clauses take in real artifacts).

Negation is pushed down to the comparisons (De Morgan), so NULL columns behave as in
CEL evaluation over the row: `==`, `in`, `has` are false on NULL and their negations
true; ordering and string methods are errors on NULL, so neither they nor their
negations match a NULL row. `has(record.f)` is key presence: true for every row when `f`
resolves (`has(record.a.b)`: the related row exists, or the JSON map has key `b`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import F, Q

from apps.security.rules.cel_ast import (
    And,
    Binary,
    Call,
    Cond,
    Has,
    Ident,
    Index,
    ListLit,
    Lit,
    MapLit,
    Node,
    Or,
    Select,
    Unary,
)
from apps.security.rules.cel_eval import compile_node
from apps.security.rules.conditions import (
    compare_fields,
    field_condition,
    is_json_field,
    is_list_field,
    is_null,
    match_all,
    match_nothing,
    storage_of,
)
from apps.security.rules.exceptions import CelError
from apps.security.rules.lookups import JsonHasKey
from apps.security.rules.resolver import FieldResolver, ResolvedField

RECORD = "record"
_COMPARISONS = {"==": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_METHOD_OPS = {"startsWith": "$startsWith", "endsWith": "$endsWith", "contains": "$contains"}


class QCompiler:
    """One compilation of one AST against one resolver and one set of variables."""

    def __init__(
        self,
        source: str,
        resolver: FieldResolver,
        variables: Mapping[str, Any],
        bare_fields: bool = True,
    ) -> None:
        self.source = source
        self.resolver = resolver
        self.variables = variables
        self.bare_fields = bare_fields

    def fail(self, node: Node, why: str = "cannot be compiled to a row filter") -> CelError:
        return CelError(self.source, f"'{describe(node)}' {why}")

    # Classification ------------------------------------------------------------------

    def field_path(self, node: Node) -> str | None:
        """The record field path `node` denotes (`status`, `account.name`), or None."""
        names: list[str] = []
        while isinstance(node, Select):
            names.append(node.field)
            node = node.operand
        if not isinstance(node, Ident):
            return None
        names.append(node.name)
        names.reverse()
        if names[0] == RECORD:
            if len(names) == 1:
                raise self.fail(node, "is the whole record, not a field")
            return ".".join(names[1:])
        if names[0] in self.variables or not self.bare_fields:
            return None
        return ".".join(names)

    def uses_record(self, node: Node) -> bool:
        if isinstance(node, Select | Ident):
            if self.field_path(node) is not None:
                return True
            return isinstance(node, Select) and self.uses_record(node.operand)
        return any(self.uses_record(child) for child in children(node))

    def constant(self, node: Node) -> Any:
        """Evaluate a record-free sub-expression with `variables` as the activation."""
        self.check_variables(node)
        try:
            return compile_node(node)(self.variables)
        except CelError as error:
            raise CelError(self.source, error.message)
        except Exception as error:  # a type error in a constant: fail closed
            raise CelError(self.source, f"cannot evaluate '{describe(node)}': {error}")

    def check_variables(self, node: Node, inside_has: bool = False) -> None:
        if isinstance(node, Select | Ident) and not inside_has:
            names: list[str] = []
            root: Node = node
            while isinstance(root, Select):
                names.append(root.field)
                root = root.operand
            if isinstance(root, Ident):
                value: Any = self.variables
                for name in [root.name, *reversed(names)]:
                    if not isinstance(value, Mapping) or name not in value:
                        raise self.fail(node, "is not a known variable")
                    value = value[name]
                return
        for child in children(node):
            self.check_variables(child, inside_has or isinstance(node, Has))

    def resolve(self, path: str) -> ResolvedField:
        return self.resolver.resolve(path)

    # Compilation ---------------------------------------------------------------------

    def compile(self, node: Node, negated: bool = False) -> Q:
        if not self.uses_record(node):
            value = self.constant(node)
            if value is not True and value is not False:
                raise self.fail(node, "is not a boolean condition")
            return match_all() if value is not negated else match_nothing()
        if isinstance(node, Unary) and node.op == "!":
            return self.compile(node.operand, not negated)
        if isinstance(node, And | Or):
            left = self.compile(node.left, negated)
            right = self.compile(node.right, negated)
            # De Morgan: a negated AND is an OR of the negations, and vice versa.
            return left & right if isinstance(node, And) != negated else left | right
        if isinstance(node, Cond):
            return self.conditional(node, negated)
        if isinstance(node, Has):
            return self.has(node, negated)
        if isinstance(node, Binary) and node.op in _COMPARISONS:
            return self.comparison(node, negated)
        if isinstance(node, Binary) and node.op == "in":
            return self.membership(node, negated)
        if isinstance(node, Call) and node.target is not None and node.name in _METHOD_OPS:
            return self.method(node, negated)
        path = self.field_path(node)
        if path is not None:  # a boolean field used as a condition: record.done
            return field_condition(self.resolve(path), "$eq", not negated, path)
        raise self.fail(node)

    def conditional(self, node: Cond, negated: bool) -> Q:
        if not self.uses_record(node.condition):
            test = self.constant(node.condition)
            if test is not True and test is not False:
                raise self.fail(node.condition, "is not a boolean condition")
            return self.compile(node.then if test else node.otherwise, negated)
        when_true = self.compile(node.condition)
        when_false = self.compile(node.condition, negated=True)
        then = self.compile(node.then, negated)
        otherwise = self.compile(node.otherwise, negated)
        return (when_true & then) | (when_false & otherwise)

    def has(self, node: Has, negated: bool) -> Q:
        path = self.field_path(node.select)
        if path is None:
            raise self.fail(node)
        if "." not in path:
            self.resolve(path)
            return match_nothing() if negated else match_all()
        parent_path = path.rsplit(".", 1)[0]
        root_name = path.split(".", 1)[0]
        root = self.resolve(root_name)
        if getattr(root.fieldtype, "relational", False) and parent_path == root_name:
            self.resolve(path)  # the related row exists: its fields are all present
            return is_null(root, negated)
        if is_json_field(root):  # a key of a JSON map, at any depth
            keys = tuple(path.split(".")[1:])
            condition = Q(JsonHasKey(F(root.lookup), (keys[:-1], keys[-1])))
            return ~condition if negated else condition
        raise self.fail(node)

    def comparison(self, node: Binary, negated: bool) -> Q:
        op = _NEGATED[node.op] if negated else node.op
        left_path = self.field_path(node.left)
        right_path = self.field_path(node.right)
        if left_path is not None and right_path is not None:
            return compare_fields(
                self.resolve(left_path), _COMPARISONS[op], self.resolve(right_path)
            )
        if left_path is None:
            left_path, op, other = right_path, _FLIPPED[op], node.left
        else:
            other = node.right
        if left_path is None or self.uses_record(other):
            raise self.fail(node)
        value = self.constant(other)
        if value is None and op not in ("==", "!="):
            raise self.fail(node, "compares with null")
        resolved = self.resolve(left_path)
        if is_list_field(resolved) and value is not None and not isinstance(value, list | tuple):
            # A list never equals a scalar in CEL (a filter's `$eq` would mean "has").
            if op not in ("==", "!="):
                raise self.fail(node)
            return match_nothing() if op == "==" else match_all()
        if isinstance(value, dt.date):
            value_or_q = temporal_operand(storage_of(resolved), op, value)
            if isinstance(value_or_q, Q):
                return value_or_q
            op, value = value_or_q
        return field_condition(resolved, _COMPARISONS[op], value, left_path)

    def membership(self, node: Binary, negated: bool) -> Q:
        item_path = self.field_path(node.left)
        container_path = self.field_path(node.right)
        if item_path is not None and not self.uses_record(node.right):
            values = self.constant(node.right)
            if not isinstance(values, list | tuple):
                raise self.fail(node, "needs a list on the right")
            op = "$nin" if negated else "$in"
            return field_condition(self.resolve(item_path), op, list(values), item_path)
        if container_path is not None and not self.uses_record(node.left):
            value = self.constant(node.left)
            return self.contains(self.resolve(container_path), value, negated, container_path)
        raise self.fail(node)

    def method(self, node: Call, negated: bool) -> Q:
        path = self.field_path(node.target) if node.target is not None else None
        if path is None or len(node.args) != 1 or self.uses_record(node.args[0]):
            raise self.fail(node)
        value = self.constant(node.args[0])
        resolved = self.resolve(path)
        if node.name == "contains":
            return self.contains(resolved, value, negated, path)
        if not isinstance(value, str):
            raise self.fail(node, "needs a string argument")
        condition = field_condition(resolved, _METHOD_OPS[node.name], value, path)
        return ~condition & is_null(resolved, False) if negated else condition

    def contains(self, resolved: ResolvedField, value: Any, negated: bool, path: str) -> Q:
        """`value in record.f` / `record.f.contains(value)`: list element or substring."""
        if value is None:
            raise CelError(self.source, f"cannot test whether '{path}' contains null")
        condition = field_condition(resolved, "$contains", value, path)
        # On a NULL column the CEL test is an error: neither it nor its negation matches.
        return ~condition & is_null(resolved, False) if negated else condition


def temporal_operand(storage: str, op: str, value: dt.date) -> tuple[str, Any] | Q:
    """Re-express `column <op> value` when a date meets a datetime, as evaluate() does.

    evaluate() compares a date with a datetime as midnight UTC of the date. For a date
    column and a datetime constant that is `f < ceil(value)`, `f <= floor(value)`...;
    for a datetime column and a date constant, the constant becomes midnight UTC.
    Returns the new `(op, value)`, or a constant `Q` (a date never equals 10:30).
    """
    if storage == "datetime" and not isinstance(value, dt.datetime):
        return op, dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if storage != "date" or not isinstance(value, dt.datetime):
        return op, value
    moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    floor = moment.date()
    at_midnight = moment.time() == dt.time(0)
    ceil = floor if at_midnight else floor + dt.timedelta(days=1)
    if op in ("==", "!="):
        if at_midnight:
            return op, floor
        return match_nothing() if op == "==" else match_all()
    return op, {"<": ceil, "<=": floor, ">": floor, ">=": ceil}[op]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of `node`."""
    if isinstance(node, Select):
        return (node.operand,)
    if isinstance(node, Has):
        return (node.select,)
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, Call):
        return node.args if node.target is None else (node.target, *node.args)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return tuple(part for entry in node.entries for part in entry)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | And | Or):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.condition, node.then, node.otherwise)
    return ()


def describe(node: Node) -> str:
    """Approximate CEL source for `node`, for error messages."""
    if isinstance(node, Lit):
        value = node.value
        return (
            "null"
            if value is None
            else repr(value).lower()
            if isinstance(value, bool)
            else repr(value)
        )
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Select):
        return f"{describe(node.operand)}.{node.field}"
    if isinstance(node, Has):
        return f"has({describe(node.select)})"
    if isinstance(node, Index):
        return f"{describe(node.operand)}[{describe(node.index)}]"
    if isinstance(node, Call):
        args = ", ".join(describe(arg) for arg in node.args)
        prefix = f"{describe(node.target)}." if node.target is not None else ""
        return f"{prefix}{node.name}({args})"
    if isinstance(node, ListLit):
        return "[" + ", ".join(describe(item) for item in node.items) + "]"
    if isinstance(node, MapLit):
        return "{" + ", ".join(f"{describe(k)}: {describe(v)}" for k, v in node.entries) + "}"
    if isinstance(node, Unary):
        return f"{node.op}{describe(node.operand)}"
    if isinstance(node, Binary):
        return f"{describe(node.left)} {node.op} {describe(node.right)}"
    if isinstance(node, And | Or):
        op = "&&" if isinstance(node, And) else "||"
        return f"({describe(node.left)} {op} {describe(node.right)})"
    if isinstance(node, Cond):
        parts = (describe(node.condition), describe(node.then), describe(node.otherwise))
        return "({} ? {} : {})".format(*parts)
    return type(node).__name__
