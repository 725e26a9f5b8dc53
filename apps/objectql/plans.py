"""The write path's SQL per object, compiled once per kernel and database.

An INSERT and the UPDATEs of one object are written out once (columns, placeholders,
`RETURNING` every returned column) instead of being compiled by the ORM on each
request. Values are prepared exactly as an ORM save prepares them (`pre_save`, then
`get_db_prep_save` per field) and the returned row goes through the same converters as
a `values()` read, so a write answers with the row as the database holds it, without
reading it again.

Objects the plan cannot serve fall back to the ORM (`WritePlan.serves()` is False): a
database without `RETURNING`, a column whose placeholder is not `%s` or whose insert
value is not its attribute (auto_now, database defaults), or a model with save signal
receivers (they expect `Model.save`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import (
    NOT_PROVIDED,
    DateField,
    DateTimeField,
    Field,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.signals import post_save, pre_save

from apps.kernel.kernel import ObjectRuntime

MAX_UPDATE_SHAPES = 256  # distinct sets of changed columns remembered per object
_SIMPLE = (str, int, bool)
_UNKNOWN = None
# Column types whose get_db_prep_save is the identity for a value of exactly this Python
# type (their get_prep_value only coerces other types): such values skip the call.
_PASS_THROUGH = {
    "CharField": str,
    "TextField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
    "BooleanField": bool,
    "FloatField": float,
}


def _pass_through(field: Field, db: Any) -> type | None:
    """The Python type a field's column takes as is (through foreign keys), or None."""
    target = field
    while target.remote_field is not None and getattr(target, "target_field", None) is not None:
        target = target.target_field
    own = type(target)
    if own.get_db_prep_save is not Field.get_db_prep_save:
        return None
    if own.get_db_prep_value is not Field.get_db_prep_value and not (
        own.get_db_prep_value is IntegerField.get_db_prep_value
        and type(db.ops).adapt_integerfield_value
        is BaseDatabaseOperations.adapt_integerfield_value  # SQLite: ints go as they are
    ):
        return None  # a field with its own database preparation
    return _PASS_THROUGH.get(target.get_internal_type())


def _plain_pre_save(field: Field) -> bool:
    """Whether the value a save inserts for the field is just its attribute: no auto_now,
    no file handling, no database default or generated column."""
    if field.db_default is not NOT_PROVIDED or getattr(field, "generated", False):
        return False
    own = type(field).pre_save
    if own is Field.pre_save:
        return True
    return (
        own in (DateField.pre_save, DateTimeField.pre_save)
        and not field.auto_now
        and not field.auto_now_add
    )


def _prepare(field: Field, kind: type | None, value: Any, db: Any) -> Any:
    if value is None or type(value) is kind:
        return value
    return field.get_db_prep_save(value, db)


def _converted(raw: Iterable[Any], converters: list, db: Any) -> list[Any]:
    """A fetched row's values through their columns' converters: `converters` holds
    (position, (functions, expression)) as SQLCompiler.get_converters gives them."""
    values = list(raw)
    for position, (functions, expression) in converters:
        value = values[position]
        for convert in functions:
            value = convert(value, expression, db)
        values[position] = value
    return values


def _db() -> Any:
    """The connection itself: `django.db.connection` is a proxy that looks the connection
    up (an asgiref Local) on every attribute access, a dozen times per write."""
    return connections[DEFAULT_DB_ALIAS]


class WritePlan:
    """INSERT/UPDATE statements of one object for the current database."""

    def __init__(self, runtime: ObjectRuntime, db: Any) -> None:
        model = runtime.model
        meta = model._meta
        quote = db.ops.quote_name
        self.model = model
        self.table = quote(meta.db_table)
        self.fields: dict[str, Field] = {f.name: f for f in meta.concrete_fields}
        self.insert_fields = list(meta.concrete_fields)
        self.kinds = {f.name: _pass_through(f, db) for f in meta.concrete_fields}
        self.pk = meta.pk
        self.returned = tuple(runtime.read_columns)
        returned = [self.fields[name] for name in self.returned]
        self.returning = ", ".join(quote(f.column) for f in returned)
        self.insert_sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
            self.table,
            ", ".join(quote(f.column) for f in self.insert_fields),
            ", ".join(["%s"] * len(self.insert_fields)),
            self.returning,
        )
        # (position, (converters, expression)) as SQLCompiler.get_converters builds them.
        self.converters: list[tuple[int, tuple[list[Callable], Any]]] = []
        for position, field in enumerate(returned):
            column = field.get_col(meta.db_table)
            found = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if found:
                self.converters.append((position, (found, column)))
        # Per column: (API name, field, pass-through type, default): what Model.__init__
        # and Field.pre_save would give a column the values leave out.
        self.insert_spec = [
            (f.name, f, self.kinds[f.name], f.get_default) for f in self.insert_fields
        ]
        self.usable = bool(
            db.features.can_return_columns_from_insert
            and not any(hasattr(f, "get_placeholder") for f in self.insert_fields)
            and all(_plain_pre_save(f) for f in self.insert_fields)
        )
        self._updates: dict[tuple[str, ...], tuple[str, list[Field]]] = {}

    @classmethod
    def of(cls, runtime: ObjectRuntime) -> WritePlan:
        db = _db()
        key = ("write", db.vendor)
        plan = runtime.plans.get(key)
        if plan is None:
            plan = runtime.plans[key] = cls(runtime, db)
        return plan

    def serves(self) -> bool:
        """False when the ORM must write (see the module docstring)."""
        model = self.model
        return self.usable and not (pre_save.has_listeners(model) or post_save.has_listeners(model))

    # -- statements -------------------------------------------------------------------
    def params(self, values: dict[str, Any]) -> list[Any]:
        """The INSERT's parameters for a row of `values` (API names; other columns get
        their model default, as `Model(**values).save()` would give them). No database
        work: a create computes them before it takes the write lock."""
        db = _db()
        return [
            _prepare(field, kind, values[name] if name in values else default(), db)
            for name, field, kind, default in self.insert_spec
        ]

    def insert(self, params: list[Any]) -> dict[str, Any]:
        """INSERT the row of `params` (see `params`); the stored row as a read returns it."""
        db = _db()
        with db.cursor() as cursor:
            cursor.execute(self.insert_sql, params)
            return self._row(cursor.fetchone(), db)

    def stored(self, raw: Iterable[Any]) -> dict[str, Any]:
        """The row `insert_sql` returned (run by another caller) as `insert` returns it."""
        return self._row(raw, _db())

    def update(self, record_id: Any, values: dict[str, Any]) -> dict[str, Any] | None:
        """UPDATE the columns in `values` (API names) of one row; its stored row, or None
        when no row has that id."""
        db = _db()
        sql, params = self.update_statement(record_id, values)
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else self._row(row, db)

    def update_statement(self, record_id: Any, values: dict[str, Any]) -> tuple[str, list]:
        """The UPDATE ... RETURNING of `update` and its parameters, to be run by the caller
        (its row goes through `stored`)."""
        db = _db()
        sql, fields = self._update_sql(tuple(values), db)
        kinds = self.kinds
        params = [
            _prepare(field, kinds[field.name], value, db)
            for field, value in zip(fields, values.values(), strict=True)
        ]
        params.append(self.pk.get_db_prep_value(record_id, db))
        return sql, params

    def _update_sql(self, names: tuple[str, ...], db: Any) -> tuple[str, list[Field]]:
        found = self._updates.get(names)
        if found is not None:
            return found
        quote = db.ops.quote_name
        fields = [self.fields[name] for name in names]
        sql = "UPDATE {} SET {} WHERE {} = %s RETURNING {}".format(  # noqa: S608
            self.table,
            ", ".join(f"{quote(f.column)} = %s" for f in fields),
            quote(self.pk.column),
            self.returning,
        )
        if len(self._updates) < MAX_UPDATE_SHAPES:
            self._updates[names] = (sql, fields)
        return sql, fields

    def _row(self, raw: Iterable[Any], db: Any) -> dict[str, Any]:
        return dict(zip(self.returned, _converted(raw, self.converters, db), strict=True))


# -- scoped single-row reads, compiled once per actor ------------------------------------
# The locked read of an update (the row by id, inside the actor's read and write scopes)
# is compiled by the ORM once per (Access, columns) with a stand-in id, then run as SQL
# with the real id in its place. An Access is what the actor's scopes were compiled into
# (cached per actor for OS_AUTH_CACHE_TTL), so the SQL is exactly the ORM's for it. The
# compiled reads live in the object's plans: they go with the kernel, never pin an old one.

_STAND_IN_ID = "\x00objectos:record-id\x00"
MAX_SELECTS = 512  # per object


class RowSelect:
    """One compiled `rows.filter(pk=...).values(*columns)[:1]`."""

    def __init__(self, rows: QuerySet) -> None:
        compiler = rows.query.get_compiler(connection=_db())
        self.empty = False
        self.usable = True
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a scope that matches nothing: no row, never
            self.empty = True
            return
        positions = [i for i, value in enumerate(params) if value == _STAND_IN_ID]
        if len(positions) != 1 or rows.query.extra_select or rows.query.annotation_select:
            self.usable = False
            return
        self.sql, self.params, self.position = sql, list(params), positions[0]
        self.names = list(rows.query.values_select)
        self.converters = list(
            compiler.get_converters([expression for expression, _, _ in compiler.select]).items()
        )

    def fetch(self, record_id: str) -> dict[str, Any] | None:
        if self.empty:
            return None
        params = list(self.params)
        params[self.position] = record_id
        db = _db()
        with db.cursor() as cursor:
            cursor.execute(self.sql, params)
            raw = cursor.fetchone()
        if raw is None:
            return None
        return dict(zip(self.names, _converted(raw, self.converters, db), strict=True))


def scoped_row(
    runtime: ObjectRuntime, access: Any, columns: tuple[str, ...], build: Callable[[str], QuerySet]
) -> RowSelect | None:
    """The compiled read of `build(id)` for this access and columns (None: use the ORM)."""
    select = _per_access(
        runtime, "selects", MAX_SELECTS, access, columns, lambda: RowSelect(build(_STAND_IN_ID))
    )
    return select if select.usable else None


def _per_access(
    runtime: ObjectRuntime, kind: str, limit: int, access: Any, key: Any, make: Callable
) -> Any:
    """The object's compiled `kind` for this Access and key, made by `make()` the first
    time. An entry remembers its Access, so an id a later Access reuses is no hit; at
    `limit` entries the table starts again (expired actors' entries go with the rest)."""
    db = _db()
    table = runtime.plans.get((kind, db.vendor))
    if table is None:
        table = runtime.plans[(kind, db.vendor)] = {}
    slot = (id(access), key)
    found = table.get(slot)
    if found is not None and found[0] is access:
        return found[1]
    made = make()
    if len(table) >= limit:
        table.clear()
    table[slot] = (access, made)
    return made


# -- list pages, compiled once per actor and query --------------------------------------
# A list's page is compiled by the ORM the first time an actor asks for it, then run as
# SQL when the same actor asks the same list again (a polling client, a dashboard, the
# benchmark): query building and compilation were a tenth of a list's time. The key is
# the whole query (filters with their values, sort, selection, search, offset, limit),
# so the SQL is exactly the ORM's for it. Like the compiled row reads above, a page lives
# with the Access it was compiled for (the actor's scopes, cached for OS_AUTH_CACHE_TTL)
# and with the kernel; request filters hold no clock (only scopes do, inside the Access).

MAX_PAGES = 256  # per object


class PageRead:
    """One compiled page (`Serializer.page`) and, once asked for, its row count."""

    def __init__(self, page: QuerySet, columns: tuple[str, ...], rows: QuerySet) -> None:
        self.columns = columns
        self._page: QuerySet | None = None  # set when the page is read through the ORM
        self.count_sql: tuple[str, tuple] | None = None
        self._rows = rows  # counted through the ORM until its COUNT is recorded
        query = page.query
        compiler = query.get_compiler(connection=_db())
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a scope or filter that matches nothing
            self.sql = None
            return
        self.sql, self.params = sql, tuple(params)
        self.converters = list(
            compiler.get_converters([expression for expression, _, _ in compiler.select]).items()
        )
        # The SQL's columns by their aliases, as `values_list` asked for them (the page's
        # fields, in its order); a column whose alias is not one of them is reordered.
        names = [alias for _, _, alias in compiler.select]
        fields = list(page._fields)
        if not set(fields) <= set(names):  # not a shape seen so far: the ORM reads it
            self.sql, self._page = None, page
            return
        self.order = None if fields == names else [names.index(f) for f in fields]

    def fetch(self) -> list[dict[str, Any]]:
        if self.sql is None:
            if self._page is None:
                return []
            return [dict(zip(self.columns, row)) for row in self._page.all()]  # noqa: B905
        db = _db()
        with db.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            raw = cursor.fetchall()
        columns, converters, order = self.columns, self.converters, self.order
        page = []
        for row in raw:
            if converters:
                row = _converted(row, converters, db)
            if order is not None:
                row = [row[i] for i in order]
            page.append(dict(zip(columns, row)))  # noqa: B905 - same length
        return page

    def count(self) -> int:
        """The number of rows of the whole list: the ORM's COUNT the first time, recorded
        as it runs, then that statement."""
        if self.sql is None and self._page is None:
            return 0
        db = _db()
        if self.count_sql is None:
            recorded: list[tuple[str, tuple]] = []

            def record(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
                recorded.append((sql, tuple(params or ())))
                return execute(sql, params, many, context)

            with db.execute_wrapper(record):
                total = self._rows.count()
            if len(recorded) == 1:
                self.count_sql = recorded[0]
            return total
        with db.cursor() as cursor:
            cursor.execute(*self.count_sql)
            return cursor.fetchone()[0]


def compiled_page(
    runtime: ObjectRuntime,
    access: Any,
    key: bytes | None,
    build: Callable[[], tuple[QuerySet, tuple[str, ...], QuerySet]],
) -> PageRead:
    """The compiled page of `build()` (page query, its columns, the whole list) for this
    access and query key (None: compiled for this request only)."""
    if key is None:
        return PageRead(*build())
    return _per_access(runtime, "pages", MAX_PAGES, access, key, lambda: PageRead(*build()))


# -- row scopes in Python --------------------------------------------------------------
# A written row is answered only if the actor may read it. The compiled read scope is a
# Q; its common shapes (owner filters, MATCH_ALL / MATCH_NOTHING, `in` lists) are decided
# here on the returned row. Anything else is "unknown" and the caller asks the database.


def scope_holds(scope: Q, row: dict[str, Any]) -> bool | None:
    """Whether `row` (a stored row, API names) is inside `scope`; None when unsure."""
    if scope.connector not in (Q.AND, Q.OR) or (scope.negated and not scope.children):
        return _UNKNOWN
    results = []
    for child in scope.children:
        if isinstance(child, Q):
            result = scope_holds(child, row)
        elif isinstance(child, tuple) and len(child) == 2:
            result = _lookup_holds(child[0], child[1], row)
        else:
            return _UNKNOWN
        if result is None:
            return _UNKNOWN
        results.append(result)
    matched = all(results) if scope.connector == Q.AND else any(results)
    return not matched if scope.negated else matched


def _lookup_holds(lookup: str, wanted: Any, row: dict[str, Any]) -> bool | None:
    name, _, operator = lookup.partition("__")
    if "__" in operator:
        return _UNKNOWN
    if name == "pk":
        name = "id"
    if name not in row:
        return _UNKNOWN
    value = row[name]
    if value is not None and type(value) not in _SIMPLE:
        return _UNKNOWN
    if operator in ("", "exact"):
        if wanted is None:
            return value is None
        if type(wanted) not in _SIMPLE:
            return _UNKNOWN
        if value is None:
            return False
        return value == wanted if type(value) is type(wanted) else _UNKNOWN
    if operator == "in":
        if not isinstance(wanted, list | tuple | set | frozenset):
            return _UNKNOWN
        if value is None:
            return False
        if any(type(item) is not type(value) for item in wanted):
            return _UNKNOWN
        return value in wanted
    if operator == "isnull" and isinstance(wanted, bool):
        return (value is None) is wanted
    return _UNKNOWN


def scope_columns(scope: Q) -> set[str] | None:
    """The row's own columns `scope` looks at (first step of each lookup); None when it
    holds an expression that could look at any of them. A queryset operand (the share
    subquery) is independent of the row: the security compiler never puts OuterRef in it."""
    found: set[str] = set()
    for child in scope.children:
        if isinstance(child, Q):
            inner = scope_columns(child)
            if inner is None:
                return None
            found |= inner
        elif isinstance(child, tuple) and len(child) == 2:
            lookup, operand = child
            if hasattr(operand, "resolve_expression") and not isinstance(operand, QuerySet):
                return None
            name = lookup.split("__", 1)[0]
            found.add("id" if name == "pk" else name)
        else:
            return None
    return found
