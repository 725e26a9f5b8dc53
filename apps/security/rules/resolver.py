"""The interface between the rule compiler and a schema: a field path in, an ORM lookup out.

The compiler never builds a column name itself. Every name found in a filter or a CEL rule
(`status`, `account.name`) goes through `FieldResolver.resolve`, which either returns a
`ResolvedField` or raises `UnknownField`. The kernel provides the real resolver (one per
object, built from the artifact); tests provide small fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ResolvedField:
    """A field path resolved against one object.

    - `lookup`: the Django ORM path relative to the filtered model (`status`,
      `account__name`); used only as a keyword/`F()` path, never spliced into SQL.
    - `field`: the artifact field definition (has `.name`, `.type`, `.options`, ...).
    - `fieldtype`: the `apps.fieldtypes` type instance: `.operators` (frozenset of
      `$eq`...), `.filter_operand(field, op, value)`, `.storage` (`"text"`, `"json"`...),
      `.relational`.
    - `guard`: for a path through a lookup (`account.name`), a `Q` on the filtered model
      that holds when the related row may be read (or there is none); a condition on the
      path is AND-ed with it, so rows the actor may not read never match. None: no limit.
    """

    lookup: str
    field: Any
    fieldtype: Any
    guard: Any = None


@runtime_checkable
class FieldResolver(Protocol):
    """Resolves a field path (`status`, `account.name`) of one object; raises `UnknownField`."""

    def resolve(self, path: str) -> ResolvedField: ...
