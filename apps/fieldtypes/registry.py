"""The field type registry: `get_type(name)` returns the one FieldType instance of a type.

`Registry` is a small generic name -> instance map (Baserow's core registry, trimmed);
`field_types` is the instance holding the 49 protocol-17 types. Importing this module
imports every module listed in `apps.fieldtypes.types`, so the registry is complete.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from apps.fieldtypes.base import FieldType

T = TypeVar("T")


class UnknownFieldType(KeyError):
    """A field type name that no module registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown field type"


class Registry(Generic[T]):
    """Named instances of one kind; registering a name twice is a programming error."""

    def __init__(self, kind: str, error: type[KeyError] = KeyError) -> None:
        self.kind = kind
        self.error = error
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if not name:
            raise ValueError(f"a {self.kind} needs a name")
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise self.error(f"unknown {self.kind} {name!r}; known: {known}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def all(self) -> dict[str, T]:
        return dict(self._items)


field_types: Registry[FieldType] = Registry("field type", UnknownFieldType)

FT = TypeVar("FT", bound=type[FieldType])


def register(cls: FT) -> FT:
    """Class decorator: register one instance of a FieldType subclass under `cls.name`."""
    field_types.add(cls.name, cls())
    return cls


def get_type(name: str) -> FieldType:
    """The field type called `name`; raises UnknownFieldType (a KeyError) if there is none."""
    return field_types.get(name)


def all_types() -> dict[str, FieldType]:
    """Every registered field type by name (a copy)."""
    return field_types.all()


# Last: the type modules import `register` from this (by now initialised) module.
from apps.fieldtypes import types as _types  # noqa: E402,F401
