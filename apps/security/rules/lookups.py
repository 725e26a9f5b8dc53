"""SQL conditions Django lacks or gets wrong for us: case-sensitive LIKE and JSON list membership.

Both are boolean expressions usable inside a `Q` (`Q(Like(F("title"), pattern))`), render
per database and pass every value as a query parameter:

- `Like`: an SQL LIKE pattern (`%` any run, `_` one character, `\\` escapes the next
  character). PostgreSQL renders `LIKE`/`ILIKE ... ESCAPE '\\'`. SQLite's LIKE ignores ASCII
  case, so a case-sensitive match is rendered as `GLOB` with the pattern translated (GLOB
  has no escape character: literal `*`, `?`, `[` become `[*]`, `[?]`, `[[]`); a
  case-insensitive one is `LIKE ... ESCAPE '\\'` (ASCII-only case folding on SQLite).
- `JsonListContains`: "the JSON array in this column has this scalar element". PostgreSQL:
  `col::jsonb @> '[value]'::jsonb`; SQLite: `json_type(col) = 'array' AND EXISTS (SELECT 1
  FROM json_each(col) WHERE value = %s)`. A NULL column or a non-array value never contains.

Both are two-valued: a NULL column gives FALSE, never SQL NULL (each renders as
`col IS NOT NULL AND ...`), so `~Q(Like(...))` is the exact complement and matches NULL
rows, like Django's own lookups on nullable columns under negation.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression

# One token of a parsed LIKE pattern: ("lit", text) | ("any", "") | ("one", "").
PatternToken = tuple[str, str]


def parse_like(pattern: str) -> list[PatternToken]:
    """Parse an SQL LIKE pattern (`%`, `_`, backslash escapes) into tokens."""
    tokens: list[PatternToken] = []
    literal: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            literal.append(pattern[index + 1])
            index += 2
            continue
        if char in "%_":
            if literal:
                tokens.append(("lit", "".join(literal)))
                literal = []
            tokens.append(("any" if char == "%" else "one", ""))
        else:
            literal.append(char)
        index += 1
    if literal:
        tokens.append(("lit", "".join(literal)))
    return tokens


def literal_tokens(text: str, *, prefix: bool = False, suffix: bool = False) -> list[PatternToken]:
    """Tokens matching `text` literally, optionally preceded/followed by any run."""
    tokens: list[PatternToken] = [("any", "")] if prefix else []
    if text:
        tokens.append(("lit", text))
    if suffix:
        tokens.append(("any", ""))
    return tokens


def render_like(tokens: list[PatternToken]) -> str:
    """Render tokens as a LIKE pattern with backslash as the escape character."""
    parts = []
    for kind, text in tokens:
        if kind == "any":
            parts.append("%")
        elif kind == "one":
            parts.append("_")
        else:
            parts.append(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return "".join(parts)


def render_glob(tokens: list[PatternToken]) -> str:
    """Render tokens as an SQLite GLOB pattern (case-sensitive, no escape character)."""
    special = {"*": "[*]", "?": "[?]", "[": "[[]"}
    parts = []
    for kind, text in tokens:
        if kind == "any":
            parts.append("*")
        elif kind == "one":
            parts.append("?")
        else:
            parts.append("".join(special.get(char, char) for char in text))
    return "".join(parts)


class _Condition(Expression):
    """A boolean SQL condition over one column expression and one Python value."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, lhs: Any, value: Any) -> None:
        super().__init__(output_field=BooleanField())
        self.lhs = lhs
        self.value = value

    def get_source_expressions(self) -> list[Any]:
        return [self.lhs]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.lhs,) = exprs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lhs!r}, {self.value!r})"


class Like(_Condition):
    """`lhs` matches the LIKE pattern tokens in `value`; `case_sensitive` on every database."""

    def __init__(self, lhs: Any, value: list[PatternToken], case_sensitive: bool = True) -> None:
        super().__init__(lhs, value)
        self.case_sensitive = case_sensitive

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        return (
            f"({lhs_sql} IS NOT NULL AND {lhs_sql} LIKE %s ESCAPE '\\')",
            [*lhs_params, *lhs_params, render_like(self.value)],
        )

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        params = [*lhs_params, *lhs_params]
        if self.case_sensitive:
            sql = f"({lhs_sql} IS NOT NULL AND {lhs_sql} GLOB %s)"
            return sql, [*params, render_glob(self.value)]
        sql = f"({lhs_sql} IS NOT NULL AND {lhs_sql} LIKE %s ESCAPE '\\')"
        return sql, [*params, render_like(self.value)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        operator = "LIKE" if self.case_sensitive else "ILIKE"
        return (
            f"({lhs_sql} IS NOT NULL AND ({lhs_sql})::text {operator} %s ESCAPE '\\')",
            [*lhs_params, *lhs_params, render_like(self.value)],
        )


class JsonListContains(_Condition):
    """The JSON array stored in `lhs` has the scalar `value` as an element."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(f"JSON list filters are not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        # lhs_sql is Django's compiled column reference, never client text.
        template = (
            "({lhs} IS NOT NULL AND json_type({lhs}) = 'array' AND EXISTS "
            "(SELECT 1 FROM json_each({lhs}) AS rules_element WHERE rules_element.value = %s))"
        )
        sql = template.format(lhs=lhs_sql)
        return sql, [*lhs_params, *lhs_params, *lhs_params, self.value]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        sql = f"({lhs_sql} IS NOT NULL AND ({lhs_sql})::jsonb @> %s::jsonb)"
        return sql, [*lhs_params, *lhs_params, json.dumps([self.value])]


class JsonListEmpty(_Condition):
    """The column holds the empty JSON array `[]` (`value` is unused)."""

    def __init__(self, lhs: Any, value: Any = None) -> None:
        super().__init__(lhs, value)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(f"JSON list filters are not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        template = (
            "({lhs} IS NOT NULL AND json_type({lhs}) = 'array' AND json_array_length({lhs}) = 0)"
        )
        return template.format(lhs=lhs_sql), [*lhs_params, *lhs_params, *lhs_params]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        sql = f"({lhs_sql} IS NOT NULL AND ({lhs_sql})::jsonb = '[]'::jsonb)"
        return sql, [*lhs_params, *lhs_params]


class JsonHasKey(_Condition):
    """The JSON object at `path` (list of keys, may be empty) inside `lhs` has key `key`.

    CEL presence: a key holding JSON null is present; a list or scalar has no keys.
    `value` is `(path, key)`; keys come from CEL identifiers and travel as parameters.
    """

    def __init__(self, lhs: Any, value: tuple[tuple[str, ...], str]) -> None:
        super().__init__(lhs, value)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        raise NotSupportedError(f"JSON key tests are not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        path, key = self.value
        parent = "$" + "".join(f'."{name}"' for name in path)
        template = (
            "({lhs} IS NOT NULL AND json_type({lhs}, %s) = 'object' "
            "AND json_type({lhs}, %s) IS NOT NULL)"
        )
        params = [*lhs_params, *lhs_params, parent, *lhs_params, f'{parent}."{key}"']
        return template.format(lhs=lhs_sql), params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        path, key = self.value
        template = (
            "({lhs} IS NOT NULL AND jsonb_typeof(({lhs})::jsonb #> %s::text[]) = 'object' "
            "AND jsonb_exists(({lhs})::jsonb #> %s::text[], %s))"
        )
        params = [*lhs_params, *lhs_params, list(path), *lhs_params, list(path), key]
        return template.format(lhs=lhs_sql), params
