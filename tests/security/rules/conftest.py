"""Fixtures for the rule compiler tests: fake field types and resolver, a throwaway model.

Runs without the project's settings (`pytest tests/security/rules -p no:django`): minimal
settings are configured here when none are. `RULES_TEST_DB=postgres` switches the
database to the local PostgreSQL (`test` database, user postgres). Under pytest-django
the fixtures take the project's test database instead. The model lives in its own
`Apps()` registry and its table is created and dropped with the schema editor; the
`item_model` fixture yields the model class with ten rows in it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings

_SQLITE_FILE = f"/tmp/rules_test_{os.getpid()}.sqlite3"
_REPOSITORY = str(Path(__file__).resolve().parents[3])
if _REPOSITORY not in sys.path:  # standalone runs (-p no:django) do not add it
    sys.path.insert(0, _REPOSITORY)

if not settings.configured:
    if os.environ.get("RULES_TEST_DB") == "postgres":
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "test",
            "USER": "postgres",
            "HOST": "127.0.0.1",
        }
    else:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": _SQLITE_FILE}
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        USE_TZ=True,
        SECRET_KEY="rules-tests",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()

from django.apps.registry import Apps  # noqa: E402
from django.db import connection, models  # noqa: E402

from apps.fieldtypes.base import (  # noqa: E402
    ALL_OPS,
    EQUALITY_OPS,
    LIST_OPS,
    ORDER_OPS,
    TEXT_OPS,
    FieldValueError,
)
from apps.security.rules import ResolvedField, UnknownField  # noqa: E402

# Fakes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeField:
    """The bits of an artifact Field the compiler reads."""

    name: str
    type: str
    multiple: bool = False
    options: list[Any] = field(default_factory=list)


class FakeType:
    """A field type following the `apps.fieldtypes.base.FieldType` operand contract.

    `filter_operand` gets the whole operand: a list for `$in`/`$nin`/`$between` (returns
    a list), a flag for `$null`/`$exists`, a string for the text operators, else one
    value; subclasses coerce one value in `coerce`.
    """

    def __init__(
        self, name: str, storage: str, operators: frozenset[str], relational: bool = False
    ) -> None:
        self.name = name
        self.storage = storage
        self.operators = operators
        self.relational = relational

    def filter_operand(self, field: Any, op: str, value: Any) -> Any:
        if op not in self.operators:
            raise FieldValueError("invalid_operator", f"operator {op} is not supported")
        if op in ("$null", "$exists"):
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
            raise FieldValueError("invalid_operand", f"expected true or false, got {value!r}")
        if op in ("$in", "$nin", "$between"):
            if not isinstance(value, list | tuple):
                raise FieldValueError("invalid_operand", f"{op} takes a list")
            return [self.coerce(field, item) for item in value]
        if op in TEXT_OPS and self.storage == "text":
            if not isinstance(value, str):
                raise FieldValueError("invalid_operand", f"{op} takes a string, got {value!r}")
            return value
        return self.coerce(field, value)

    def coerce(self, field: Any, value: Any) -> Any:
        return value


class TextType(FakeType):
    def coerce(self, field: Any, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldValueError("invalid_text", f"'{field.name}' needs text")
        return value


class NumberType(FakeType):
    def coerce(self, field: Any, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldValueError("invalid_number", f"'{field.name}' needs a number")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise FieldValueError("invalid_number", f"'{field.name}' needs a number")


class DateType(FakeType):
    def coerce(self, field: Any, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise FieldValueError("invalid_date", f"'{field.name}' needs a date")


class BoolType(FakeType):
    def coerce(self, field: Any, value: Any) -> Any:
        if not isinstance(value, bool):
            raise FieldValueError("invalid_boolean", f"'{field.name}' needs true or false")
        return value


class IdType(FakeType):
    def coerce(self, field: Any, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldValueError("invalid_reference", f"'{field.name}' needs a record id")
        return value


class TagsType(FakeType):
    """A list column: elements are strings or ints; `$eq` takes an element or a list."""

    def coerce(self, field: Any, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self.coerce(field, item) for item in value]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise FieldValueError("invalid_tag", f"'{field.name}' elements are text or numbers")
        return value


TEXT = TextType("text", "text", ALL_OPS)
SELECT = TextType("select", "text", EQUALITY_OPS | TEXT_OPS)
NUMBER = NumberType("number", "decimal", EQUALITY_OPS | ORDER_OPS)
FLOAT = NumberType("number", "decimal", EQUALITY_OPS | ORDER_OPS)
DATE = DateType("date", "date", EQUALITY_OPS | ORDER_OPS)
TAGS = TagsType("tags", "json_list", LIST_OPS | {"$notContains"})
BOOLEAN = BoolType("boolean", "boolean", EQUALITY_OPS)
LOOKUP = IdType("lookup", "reference", EQUALITY_OPS, relational=True)

ITEM_FIELDS: dict[str, tuple[str, Any, FakeField]] = {
    "title": ("title", TEXT, FakeField("title", "text")),
    "status": ("status", SELECT, FakeField("status", "select")),
    "amount": ("amount", NUMBER, FakeField("amount", "currency")),
    "score": ("score", FLOAT, FakeField("score", "number")),
    "due": ("due", DATE, FakeField("due", "date")),
    "tags": ("tags", TAGS, FakeField("tags", "tags")),
    "done": ("done", BOOLEAN, FakeField("done", "boolean")),
    "parent": ("parent", LOOKUP, FakeField("parent", "lookup")),
}


class ItemResolver:
    """Resolves `field` and `parent.field` paths of the test item object."""

    def resolve(self, path: str) -> ResolvedField:
        if path in ITEM_FIELDS:
            lookup, fieldtype, definition = ITEM_FIELDS[path]
            return ResolvedField(lookup, definition, fieldtype)
        head, _, rest = path.partition(".")
        if head == "parent" and rest in ITEM_FIELDS and rest != "parent":
            lookup, fieldtype, definition = ITEM_FIELDS[rest]
            return ResolvedField(f"parent__{lookup}", definition, fieldtype)
        raise UnknownField(path)


@pytest.fixture(scope="session")
def resolver() -> ItemResolver:
    return ItemResolver()


# The database --------------------------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    # id, title, status, amount, score, due, tags, done, parent
    dict(id=1, title="alpha", status="open", amount="100.00", score=1.5, due="2024-01-10",
         tags=["red", "blue"], done=True, parent=None),
    dict(id=2, title="beta", status="closed", amount="250.50", score=2.0, due="2024-02-01",
         tags=["green"], done=False, parent=1),
    dict(id=3, title="gamma", status="open", amount="50.00", score=None, due="2024-03-15",
         tags=[], done=None, parent=1),
    dict(id=4, title="delta", status=None, amount=None, score=9.5, due=None,
         tags=None, done=None, parent=None),
    dict(id=5, title="Epsilon", status="pending", amount="1000.00", score=0.0,
         due="2023-12-31", tags=["red"], done=True, parent=2),
    dict(id=6, title="100% pure", status="closed", amount="10.00", score=3.25,
         due="2024-01-10", tags=["Red", "x%"], done=False, parent=None),
    dict(id=7, title="under_score", status="open", amount="0.00", score=-1.0,
         due="2024-06-30", tags=["1"], done=None, parent=None),
    dict(id=8, title="ALPHA", status="closed", amount="100.00", score=None, due=None,
         tags=[1], done=None, parent=4),
    dict(id=9, title="'; DROP TABLE x; --", status="open", amount="5.00", score=4.0,
         due="2024-05-05", tags={"k": "red", "n": {"m": None}}, done=True, parent=None),
    dict(id=10, title="eta*?[x]", status="open", amount="75.00", score=7.0,
         due="2024-02-29", tags=["blue"], done=True, parent=None),
]  # fmt: skip
ALL_TITLES = frozenset(row["title"] for row in ROWS)


def python_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the ORM returns it (Decimal, date), for CEL evaluation."""
    result = dict(row)
    result["amount"] = Decimal(row["amount"]) if row["amount"] is not None else None
    result["due"] = dt.date.fromisoformat(row["due"]) if row["due"] else None
    return result


def build_item_model() -> type[models.Model]:
    """A model class in its own registry, with a per-process table name."""

    class Item(models.Model):
        title = models.TextField()
        status = models.TextField(null=True)
        amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
        score = models.FloatField(null=True)
        due = models.DateField(null=True)
        tags = models.JSONField(null=True)
        done = models.BooleanField(null=True)
        parent = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)

        class Meta:
            apps = Apps()
            app_label = "rulestest"
            db_table = f"rulestest_item_{os.getpid()}"

    return Item


@pytest.fixture(scope="session")
def _database_access(request: pytest.FixtureRequest) -> Any:
    """Unblock the database under pytest-django; nothing to do without it."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("django_db_setup")
        blocker = request.getfixturevalue("django_db_blocker")
        with blocker.unblock():
            yield
    else:
        yield


@pytest.fixture(scope="session")
def item_model(_database_access: Any) -> Any:
    """The throwaway model with ROWS inserted; the table is dropped afterwards."""
    model = build_item_model()
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        for row in ROWS:
            model.objects.create(**{k: v for k, v in row.items() if k != "parent"})
        for row in ROWS:
            if row["parent"]:
                model.objects.filter(pk=row["id"]).update(parent_id=row["parent"])
        yield model
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
        if connection.vendor == "sqlite" and os.path.exists(_SQLITE_FILE):
            connection.close()
            os.remove(_SQLITE_FILE)


def titles(model: Any, q: Any) -> set[str]:
    """The titles of the rows matching `q`."""
    return set(model.objects.filter(q).values_list("title", flat=True))


@pytest.fixture(scope="session")
def match(item_model: Any) -> Any:
    """`match(q)`: the set of titles a Q selects."""
    return lambda q: titles(item_model, q)
