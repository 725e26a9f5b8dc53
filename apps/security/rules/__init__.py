"""The rule compiler: API filters and restricted CEL rules to Django `Q` (Decision 4).

Public API:
- `compile_filter(spec, resolver) -> Q`: Mongo-style JSON or array-form API filter.
- `compile_cel(source) -> CelProgram`: `.evaluate(activation)`, `.evaluate_bool(...)`,
  `.to_q(resolver, variables)`.
- `cel_to_q_or_nothing(source, resolver, variables) -> (Q, CelError | None)`.
- `ResolvedField` / `FieldResolver`: how the compiler reaches the schema.
- `RuleError`, `UnknownField`, `InvalidFilter`, `CelError`.
"""

from apps.security.rules.cel import CelProgram, cel_to_q_or_nothing, compile_cel
from apps.security.rules.cel_functions import frozen_now
from apps.security.rules.conditions import MATCH_ALL, MATCH_NOTHING
from apps.security.rules.exceptions import CelError, InvalidFilter, RuleError, UnknownField
from apps.security.rules.filters import compile_filter
from apps.security.rules.resolver import FieldResolver, ResolvedField

__all__ = [
    "MATCH_ALL",
    "MATCH_NOTHING",
    "CelError",
    "CelProgram",
    "FieldResolver",
    "InvalidFilter",
    "ResolvedField",
    "RuleError",
    "UnknownField",
    "cel_to_q_or_nothing",
    "compile_cel",
    "compile_filter",
    "frozen_now",
]
