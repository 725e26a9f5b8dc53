"""Parse CEL source into a small immutable AST (`Node`); both CEL compilers read only this.

celpy's lark grammar does the parsing; this module flattens its deep tree into a dozen
node types and decodes literals (ints incl. hex and `u` suffix, doubles, strings in both
quote styles, raw and triple-quoted, with CEL escapes, bytes, bools, null). Message
construction (`Type{field: v}`) is refused. Errors are `CelError` with line and column.

celpy (with lark and pendulum, ~50-90 ms of imports) is imported by the first parse, not
with this module: a process whose projects hold no CEL expression never loads it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.security.rules.exceptions import CelError

if TYPE_CHECKING:
    from lark import Token, Tree

MAX_SOURCE_LENGTH = 8192


class Node:
    """Base class of the CEL AST."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Lit(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class Ident(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Select(Node):
    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A global function (`target` None) or a method call on `target`."""

    name: str
    target: Node | None
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Has(Node):
    select: Select


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(Node):
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "!" | "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # == != < <= > >= in + - * / %
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cond(Node):
    condition: Node
    then: Node
    otherwise: Node


_PARSER_LOCK = threading.Lock()
_RELATIONS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}
_ARITHMETIC = {
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}
_PASS_THROUGH = {"member", "primary"}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\"'\\`?])|([0-3][0-7]{2})|x([0-9a-fA-F]{2})"
    r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))"
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "`": "`",
    "?": "?",
}


def parse(source: str) -> Node:
    """Parse CEL `source` into a `Node`; raises CelError with the position on bad syntax."""
    if not isinstance(source, str) or not source.strip():
        raise CelError(str(source), "empty CEL expression")
    if len(source) > MAX_SOURCE_LENGTH:
        raise CelError(source[:80], f"CEL expression longer than {MAX_SOURCE_LENGTH} characters")
    from celpy.celparser import CELParseError, CELParser  # see the module docstring

    try:
        with _PARSER_LOCK:
            tree = CELParser().parse(source)
    except CELParseError as error:
        where = f"line {error.line}, column {error.column}" if error.line else "unknown position"
        raise CelError(source, f"syntax error at {where}")
    try:
        return _Builder(source).build(tree)
    except RecursionError:
        raise CelError(source, "CEL expression is nested too deeply")


class _Builder:
    """Turns one lark tree into `Node`s."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, tree: Tree | Token, message: str) -> CelError:
        line = getattr(tree, "line", None) or getattr(getattr(tree, "meta", None), "line", None)
        column = getattr(tree, "column", None) or getattr(
            getattr(tree, "meta", None), "column", None
        )
        where = f" at line {line}, column {column}" if line else ""
        return CelError(self.source, f"{message}{where}")

    def build(self, tree: Tree) -> Node:
        rule = tree.data
        children = tree.children
        if rule in _PASS_THROUGH or len(children) == 1 and rule in _SINGLE:
            return self.build(children[0])
        method = getattr(self, f"build_{rule}", None)
        if method is None:
            raise self.fail(tree, f"unsupported CEL construct '{rule}'")
        return method(tree, children)

    def build_expr(self, tree: Tree, children: list[Any]) -> Node:
        return Cond(self.build(children[0]), self.build(children[1]), self.build(children[2]))

    def build_conditionalor(self, tree: Tree, children: list[Any]) -> Node:
        return Or(self.build(children[0]), self.build(children[1]))

    def build_conditionaland(self, tree: Tree, children: list[Any]) -> Node:
        return And(self.build(children[0]), self.build(children[1]))

    def build_relation(self, tree: Tree, children: list[Any]) -> Node:
        operator_tree, right = children
        op = _RELATIONS[operator_tree.data]
        return Binary(op, self.build(operator_tree.children[0]), self.build(right))

    def build_addition(self, tree: Tree, children: list[Any]) -> Node:
        operator_tree, right = children
        op = _ARITHMETIC[operator_tree.data]
        return Binary(op, self.build(operator_tree.children[0]), self.build(right))

    build_multiplication = build_addition

    def build_unary(self, tree: Tree, children: list[Any]) -> Node:
        operator_tree, operand = children
        return Unary("!" if operator_tree.data == "unary_not" else "-", self.build(operand))

    def build_member_dot(self, tree: Tree, children: list[Any]) -> Node:
        return Select(self.build(children[0]), str(children[1]))

    def build_member_dot_arg(self, tree: Tree, children: list[Any]) -> Node:
        args = self.arguments(children[2] if len(children) > 2 else None)
        return Call(str(children[1]), self.build(children[0]), args)

    def build_member_index(self, tree: Tree, children: list[Any]) -> Node:
        return Index(self.build(children[0]), self.build(children[1]))

    def build_member_object(self, tree: Tree, children: list[Any]) -> Node:
        raise self.fail(tree, "message construction is not supported")

    def build_ident(self, tree: Tree, children: list[Any]) -> Node:
        return Ident(str(children[0]))

    build_dot_ident = build_ident

    def build_ident_arg(self, tree: Tree, children: list[Any]) -> Node:
        name = str(children[0])
        args = self.arguments(children[1] if len(children) > 1 else None)
        if name == "has":
            if len(args) != 1 or not isinstance(args[0], Select):
                raise self.fail(tree, "has() needs one field selection, like has(record.x)")
            return Has(args[0])
        return Call(name, None, args)

    build_dot_ident_arg = build_ident_arg

    def build_paren_expr(self, tree: Tree, children: list[Any]) -> Node:
        return self.build(children[0])

    def build_list_lit(self, tree: Tree, children: list[Any]) -> Node:
        return ListLit(self.arguments(children[0] if children else None))

    def build_map_lit(self, tree: Tree, children: list[Any]) -> Node:
        items = [self.build(child) for child in children[0].children] if children else []
        return MapLit(tuple(zip(items[0::2], items[1::2], strict=True)))

    def build_literal(self, tree: Tree, children: list[Any]) -> Node:
        token: Token = children[0]
        kind, text = token.type, str(token)
        if kind == "INT_LIT":
            return Lit(_integer(text))
        if kind == "UINT_LIT":
            return Lit(_integer(text[:-1]))
        if kind == "FLOAT_LIT":
            return Lit(float(text))
        if kind in ("STRING_LIT", "MLSTRING_LIT"):
            return Lit(_string(text))
        if kind == "BYTES_LIT":
            return Lit(_string(text[1:]).encode("utf-8", "surrogatepass"))
        if kind == "BOOL_LIT":
            return Lit(text == "true")
        if kind == "NULL_LIT":
            return Lit(None)
        raise self.fail(token, f"unsupported literal {text!r}")

    def arguments(self, exprlist: Tree | None) -> tuple[Node, ...]:
        if exprlist is None:
            return ()
        return tuple(self.build(child) for child in exprlist.children)


# Rules that only wrap their single child when they have one.
_SINGLE = {
    "expr",
    "conditionalor",
    "conditionaland",
    "relation",
    "addition",
    "multiplication",
    "unary",
}


def _integer(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("-")
    if digits[:2].lower() == "0x":
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def _string(text: str) -> str:
    raw = text[0] in "rR"
    if raw:
        text = text[1:]
    quote = text[:3] if text[:3] in ('"""', "'''") else text[0]
    body = text[len(quote) : -len(quote)]
    return body if raw else _ESCAPE.sub(_unescape, body)


def _unescape(match: re.Match[str]) -> str:
    simple, octal, hex2, hex4, hex8 = match.groups()
    if simple is not None:
        return _SIMPLE_ESCAPES[simple]
    if octal is not None:
        return chr(int(octal, 8))
    return chr(int(hex2 or hex4 or hex8, 16))
