"""The contract every field type implements: storage, validation, wire format, filters.

A field type is a small stateless class; one instance per type lives in the registry.
Every method receives the artifact's field definition (`apps.artifact.models.Field`)
so the same instance serves every object. Field types know nothing of projects,
kernels or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

if TYPE_CHECKING:
    from apps.artifact.models import Field

# Operators of the filter grammar (README "API"); each type declares the subset it supports.
EQUALITY_OPS = frozenset({"$eq", "$ne", "$in", "$nin", "$null", "$exists"})
ORDER_OPS = frozenset({"$gt", "$gte", "$lt", "$lte", "$between"})
TEXT_OPS = frozenset(
    {"$contains", "$notContains", "$icontains", "$startsWith", "$endsWith", "$like", "$ilike"}
)
ALL_OPS = EQUALITY_OPS | ORDER_OPS | TEXT_OPS
# Operators that only ask whether a value is there; their operand is a boolean flag.
PRESENCE_OPS = frozenset({"$null", "$exists"})
# Operators of list-valued columns (multiselect, tags, multiple relations); see `list_ops`.
LIST_OPS = frozenset({"$eq", "$contains", "$in", "$nin", "$null", "$exists"})
NO_OPS: frozenset[str] = frozenset()

_TRUE_STRINGS = frozenset({"true", "1"})
_FALSE_STRINGS = frozenset({"false", "0"})


class FieldValueError(ValueError):
    """A client value a field cannot accept; `code` is machine-readable, `message` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Relation:
    """How a relational field points at its target (filled by the kernel's model factory)."""

    to: Any  # model class or lazy "app_label.ModelName" string in the kernel's Apps
    on_delete: Any  # django.db.models deletion handler
    # False for references to the user model: users live outside the project's tables,
    # so no database constraint ties them to project rows (as for the `user` type).
    db_constraint: bool = True


@dataclass(frozen=True)
class DynamicDefault:
    """A default only the write path can resolve (who writes, when); see `resolve_default`."""

    token: str


CURRENT_USER = DynamicDefault("current_user")
NOW = DynamicDefault("now")
TODAY = DynamicDefault("today")


def resolve_default(value: Any, *, user_id: Any, now: Any) -> Any:
    """Replace a DynamicDefault with its value for this write (`now` is an aware datetime)."""
    if value == CURRENT_USER:
        return user_id
    if value == NOW:
        return now
    if value == TODAY:
        return now.date()
    return value


def parse_flag(value: Any) -> bool:
    """A boolean operand: JSON true/false or the query-string spellings "true"/"false"/"1"/"0"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE_STRINGS:
        return False
    raise FieldValueError("invalid_operand", f"expected true or false, got {value!r}")


class FieldType:
    """Base class: a stored scalar column. Subclasses override what differs.

    Contract:
    - `model_field(field, relation)` returns the Django field for the column named
      `field.name`, or None when the type stores nothing (formula, summary).
    - `clean(field, value)` turns a client value into the Python value to store, or
      raises FieldValueError. `None` means "no value" and is returned unchanged; some
      types also turn a blank string into None, so the caller checks `required` on the
      cleaned value.
    - `to_wire(field, value)` turns a stored value into JSON-ready data (orjson
      serialises str/int/float/bool/None/list/dict/date/datetime/time natively).
    - `filter_operand(field, op, value)` coerces a filter operand, raising
      FieldValueError for a value that cannot be compared with this column: a list for
      `$in`/`$nin`/`$between`, a bool for `$null`/`$exists`, a str pattern for the text
      operators, otherwise one value (None for `$eq`/`$ne` null).
    - `change_kind(old, new)` classifies a definition change of the same field for the
      schema planner: "metadata" (no DDL), "rewrite" (column altered, data kept) or
      "destructive" (data may be lost: narrowing).
    - `storage_for(field)` / `operators_for(field)` refine the class attributes for one
      field (a `multiple` select stores a list and has list operators).
    """

    name: ClassVar[str] = ""
    # Column family; two fields with the same storage can be switched without a rewrite.
    storage: ClassVar[str] = "text"
    operators: ClassVar[frozenset[str]] = EQUALITY_OPS
    # True for types whose values take part in `search`.
    text_searchable: ClassVar[bool] = False
    # False for types never sent to clients (password).
    returned: ClassVar[bool] = True
    # True for types whose value needs to_wire() on read (decimals, secrets, ...);
    # False lets the read path hand the stored value straight to the renderer.
    needs_wire_conversion: ClassVar[bool] = False
    # True for types the client may not write (autonumber, formula, summary).
    computed: ClassVar[bool] = False
    # True for relational types (lookup, master_detail, tree, user).
    relational: ClassVar[bool] = False
    sortable: ClassVar[bool] = True

    def model_field(self, field: Field, relation: Relation | None = None) -> models.Field | None:
        return models.TextField(db_column=field.name, null=True, blank=True)

    def clean(self, field: Field, value: Any) -> Any:
        return value

    def to_wire(self, field: Field, value: Any) -> Any:
        return value

    def storage_for(self, field: Field) -> str:
        """The storage family of this field (differs from `storage` for `multiple`)."""
        return self.storage

    def operators_for(self, field: Field) -> frozenset[str]:
        """The filter operators this field accepts (differs from `operators` for `multiple`)."""
        return self.operators

    def filter_operand(self, field: Field, op: str, value: Any) -> Any:
        if op not in self.operators_for(field):
            raise FieldValueError(
                "invalid_operator",
                f"operator {op} is not supported on {self.name} field {field.name!r}",
            )
        if op in PRESENCE_OPS:
            return parse_flag(value)
        if op in ("$in", "$nin"):
            items = value if isinstance(value, list | tuple) else [value]
            return [self.coerce_operand(field, item) for item in items]
        if op == "$between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise FieldValueError("invalid_operand", "$between takes a list [low, high]")
            return [self.coerce_operand(field, item) for item in value]
        if op in TEXT_OPS:
            if not isinstance(value, str):
                raise FieldValueError("invalid_operand", f"{op} takes a string, got {value!r}")
            return value
        if value is None and op in ("$eq", "$ne"):
            return None
        return self.coerce_operand(field, value)

    def coerce_operand(self, field: Field, value: Any) -> Any:
        """One comparison operand as stored in the column (default: what `clean` stores)."""
        return self.clean(field, value)

    def default(self, field: Field) -> Any:
        """The value a create without this field stores (None: no default)."""
        default = field.default_value
        if default is None:
            return None
        return self.clean(field, default)

    def change_kind(self, old: Field, new: Field) -> str:
        from apps.fieldtypes.changes import classify_change

        return classify_change(old, new)

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string"}
