"""Errors of the rule compiler: every failure to read or compile a filter or a CEL rule.

`RuleError` is the root; callers map `UnknownField` and `InvalidFilter` to HTTP 400
(`INVALID_FIELD` / `INVALID_FILTER`) for client filters, and treat any `RuleError` raised
while compiling a security rule as "match nothing" (fail closed).
"""

from __future__ import annotations


class RuleError(Exception):
    """Base class of every error raised by `apps.security.rules`."""


class UnknownField(RuleError):
    """A filter or rule names a field the object does not have (or may not filter on)."""

    def __init__(self, field: str, message: str | None = None) -> None:
        self.field = field
        self.message = message or f"unknown field '{field}'"
        super().__init__(self.message)


class InvalidFilter(RuleError):
    """A filter is malformed: wrong shape, unknown or unsupported operator, bad operand."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class CelError(RuleError):
    """A CEL expression does not parse, fails at evaluation, or cannot become a row filter."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{message} (in CEL expression {source!r})" if source else message)
