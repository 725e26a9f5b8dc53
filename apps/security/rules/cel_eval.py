"""Compile a CEL AST into a tree of Python closures: `activation dict -> value`.

Name lookups are lenient: a missing identifier, a missing map key or a field of null
evaluates to None (null-safe selection), so `previous.status` is null when there is no
`previous`. `has(a.b)` is CEL key presence: true when `a` is a map holding key `b`, even
with a null value; false when `a` is null or not a map. Type errors raise CelError.
`&&` and `||` follow CEL's commutative error rules: `false && <error>` and
`<error> && false` are false, `true || <error>` and `<error> || true` are true.
Activations hold plain data (dicts, lists, scalars); attributes of objects are not read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
from apps.security.rules.cel_functions import FUNCTIONS, METHODS
from apps.security.rules.cel_values import (
    BINARY_OPERATORS,
    logical_not,
    negate,
    overload_error,
    type_name,
)
from apps.security.rules.exceptions import CelError

Evaluator = Callable[[Mapping[str, Any]], Any]


def compile_node(node: Node) -> Evaluator:
    """The closure evaluating `node`; raises CelError for unknown functions or bad arity."""
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        raise CelError("", f"unsupported CEL node {type(node).__name__}")
    return compiler(node)


def _literal(node: Lit) -> Evaluator:
    value = node.value
    return lambda activation: value


def _ident(node: Ident) -> Evaluator:
    name = node.name
    return lambda activation: activation.get(name)


def _select(node: Select) -> Evaluator:
    field = node.field
    # Fast path for `root.field`, the most common shape by far.
    if isinstance(node.operand, Ident):
        root = node.operand.name

        def select_root(activation: Mapping[str, Any]) -> Any:
            value = activation.get(root)
            if isinstance(value, Mapping):
                return value.get(field)
            if value is None:
                return None
            raise CelError("", f"cannot select '{field}' on a {type_name(value)}")

        return select_root
    operand = compile_node(node.operand)

    def select(activation: Mapping[str, Any]) -> Any:
        value = operand(activation)
        if isinstance(value, Mapping):
            return value.get(field)
        if value is None:
            return None
        raise CelError("", f"cannot select '{field}' on a {type_name(value)}")

    return select


def _has(node: Has) -> Evaluator:
    operand = compile_node(node.select.operand)
    field = node.select.field

    def has(activation: Mapping[str, Any]) -> bool:
        value = operand(activation)
        return isinstance(value, Mapping) and field in value

    return has


def _index(node: Index) -> Evaluator:
    operand = compile_node(node.operand)
    index = compile_node(node.index)

    def index_value(activation: Mapping[str, Any]) -> Any:
        container = operand(activation)
        key = index(activation)
        if isinstance(container, list | tuple):
            if isinstance(key, bool) or not isinstance(key, int):
                raise overload_error("_[_]", container, key)
            if not 0 <= key < len(container):
                raise CelError("", f"index {key} out of range (size {len(container)})")
            return container[key]
        if isinstance(container, Mapping):
            try:
                return container.get(key)
            except TypeError:
                raise overload_error("_[_]", container, key)
        if container is None:
            return None
        raise overload_error("_[_]", container, key)

    return index_value


def _call(node: Call) -> Evaluator:
    args = [compile_node(arg) for arg in node.args]
    if node.target is None:
        if node.name not in FUNCTIONS:
            raise CelError("", f"unknown function '{node.name}'")
        function, arities = FUNCTIONS[node.name]
    else:
        if node.name not in METHODS:
            raise CelError("", f"unknown method '.{node.name}()'")
        function, arities = METHODS[node.name]
        args.insert(0, compile_node(node.target))
        arities = tuple(arity + 1 for arity in arities)
    if len(args) not in arities:
        raise CelError("", f"'{node.name}' takes {arities[0]} argument(s), not {len(args)}")
    if not args:
        return lambda activation: function()
    if len(args) == 1:
        (only,) = args
        return lambda activation: function(only(activation))
    if len(args) == 2:
        first, second = args
        return lambda activation: function(first(activation), second(activation))
    return lambda activation: function(*(arg(activation) for arg in args))


def _list(node: ListLit) -> Evaluator:
    if all(isinstance(item, Lit) for item in node.items):
        constant = tuple(item.value for item in node.items)  # type: ignore[attr-defined]
        return lambda activation: list(constant)
    items = [compile_node(item) for item in node.items]
    return lambda activation: [item(activation) for item in items]


def _map(node: MapLit) -> Evaluator:
    entries = [(compile_node(key), compile_node(value)) for key, value in node.entries]

    def build_map(activation: Mapping[str, Any]) -> dict[Any, Any]:
        result = {}
        for key, value in entries:
            resolved_key = key(activation)
            if not isinstance(resolved_key, str | int | bool):
                raise CelError("", f"map keys must be strings, ints or bools, not {resolved_key!r}")
            result[resolved_key] = value(activation)
        return result

    return build_map


def _unary(node: Unary) -> Evaluator:
    operand = compile_node(node.operand)
    function = logical_not if node.op == "!" else negate
    return lambda activation: function(operand(activation))


def _binary(node: Binary) -> Evaluator:
    function = BINARY_OPERATORS[node.op]
    left = compile_node(node.left)
    right = compile_node(node.right)
    return lambda activation: function(left(activation), right(activation))


def _and(node: And) -> Evaluator:
    return _logical(node, absorbing=False)


def _or(node: Or) -> Evaluator:
    return _logical(node, absorbing=True)


def _logical(node: And | Or, absorbing: bool) -> Evaluator:
    """`&&` (absorbing False) or `||` (absorbing True) with CEL error absorption."""
    left = compile_node(node.left)
    right = compile_node(node.right)
    op = "||" if absorbing else "&&"

    def logical(activation: Mapping[str, Any]) -> bool:
        try:
            first = left(activation)
            if first is not True and first is not False:
                raise overload_error(op, first)
        except Exception as error:
            if right(activation) is absorbing:
                return absorbing
            raise error
        if first is absorbing:
            return absorbing
        second = right(activation)
        if second is not True and second is not False:
            raise overload_error(op, first, second)
        return second

    return logical


def _cond(node: Cond) -> Evaluator:
    condition = compile_node(node.condition)
    then = compile_node(node.then)
    otherwise = compile_node(node.otherwise)

    def conditional(activation: Mapping[str, Any]) -> Any:
        test = condition(activation)
        if test is True:
            return then(activation)
        if test is False:
            return otherwise(activation)
        raise overload_error("_?_:_", test)

    return conditional


_COMPILERS: dict[type[Node], Callable[[Any], Evaluator]] = {
    Lit: _literal,
    Ident: _ident,
    Select: _select,
    Has: _has,
    Index: _index,
    Call: _call,
    ListLit: _list,
    MapLit: _map,
    Unary: _unary,
    Binary: _binary,
    And: _and,
    Or: _or,
    Cond: _cond,
}
