"""Restricted CEL: compile once, then evaluate over a dict or compile to a row-filter `Q`.

`compile_cel(source)` parses with celpy's grammar and builds a closure tree (cached by
source). `CelProgram.evaluate(activation)` runs it, about ten times faster than celpy's
own evaluator; `CelProgram.to_q(resolver, variables)` turns a boolean rule over
`record.<field>` into a `Q`. Semantics: `cel_values` (operators), `cel_functions`
(functions, clock), `cel_eval` (names, `has`, `&&`/`||`), `cel_q` (row filters).
Every failure is a `RuleError` (CelError for the language); callers fail closed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from apps.security.rules.cel_ast import Node, parse
from apps.security.rules.cel_eval import Evaluator, compile_node
from apps.security.rules.cel_q import QCompiler
from apps.security.rules.conditions import MATCH_NOTHING, match_nothing
from apps.security.rules.exceptions import CelError, RuleError
from apps.security.rules.resolver import FieldResolver

__all__ = ["MATCH_NOTHING", "CelProgram", "cel_to_q_or_nothing", "compile_cel"]


class CelProgram:
    """One compiled CEL expression; immutable and safe to share between threads."""

    __slots__ = ("source", "ast", "_evaluator")

    def __init__(self, source: str, ast: Node, evaluator: Evaluator) -> None:
        self.source = source
        self.ast = ast
        self._evaluator = evaluator

    def __repr__(self) -> str:
        return f"CelProgram({self.source!r})"

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        """The value of the expression for `activation`; raises CelError on any error."""
        try:
            return self._evaluator(activation)
        except CelError as error:
            raise CelError(self.source, error.message) from None
        except RecursionError:
            raise CelError(self.source, "evaluation nested too deeply") from None
        except Exception as error:  # a Python type error inside an operator
            raise CelError(self.source, f"evaluation failed: {error}") from None

    def evaluate_bool(self, activation: Mapping[str, Any]) -> bool:
        """`evaluate` for conditions: the result must be true or false, else CelError."""
        result = self.evaluate(activation)
        if result is True or result is False:
            return result
        raise CelError(self.source, f"condition gave {type(result).__name__}, not a bool")

    def to_q(
        self,
        resolver: FieldResolver,
        variables: Mapping[str, Any] | None = None,
        *,
        bare_fields: bool = True,
    ) -> Q:
        """The row filter for this boolean expression; raises a RuleError when impossible.

        `variables` (nested dicts) give every non-record identifier its value. With
        `bare_fields`, identifiers that are not variables name record fields.
        """
        compiler = QCompiler(self.source, resolver, variables or {}, bare_fields)
        try:
            return compiler.compile(self.ast)
        except RecursionError:
            raise CelError(self.source, "expression nested too deeply") from None


@functools.lru_cache(maxsize=2048)
def compile_cel(source: str) -> CelProgram:
    """Parse and compile `source` (cached by source); raises CelError with the position."""
    ast = parse(source)
    try:
        evaluator = compile_node(ast)
    except CelError as error:
        raise CelError(source, error.message) from None
    except RecursionError:
        raise CelError(source, "expression nested too deeply") from None
    return CelProgram(source, ast, evaluator)


def cel_to_q_or_nothing(
    source: str,
    resolver: FieldResolver,
    variables: Mapping[str, Any] | None = None,
    *,
    bare_fields: bool = True,
) -> tuple[Q, CelError | None]:
    """`(Q, None)` for a compilable rule, else `(match-nothing Q, the error)`: fail closed."""
    try:
        return compile_cel(source).to_q(resolver, variables, bare_fields=bare_fields), None
    except CelError as error:
        return match_nothing(), error
    except RuleError as error:
        return match_nothing(), CelError(source, str(error))
    except Exception as error:  # a resolver or field type bug: still fail closed
        return match_nothing(), CelError(source, f"internal error: {error!r}")
