"""What a database holds, read in one consistent view: every table with its row count and a
checksum of its rows, and each project's published artifact version.

A backup records this in its manifest (read from the snapshot itself, so the numbers are
those of the dump, not of the live database that kept changing meanwhile); `verify`
reads it again from the restored database and compares. The checksum of a table is the
sha256 of the `repr` of each row in primary-key order, one row per line: it changes when
any value of any row changes, and it is comparable between two databases of the same
vendor read through the same driver (SQLite through `sqlite3`, PostgreSQL through the
Django psycopg connection, whose loaders give UTC datetimes).

Readers stream rows (SQLite cursors do; on PostgreSQL a server-side cursor), so a table of
millions of rows never sits in memory.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote as url_quote

from apps.projects.models import AppVersion, Project

FETCH_ROWS = 2000


@dataclass(frozen=True)
class TableState:
    """Rows of one table and the checksum of their values in primary-key order."""

    rows: int
    sha256: str


@dataclass(frozen=True)
class PublishedVersion:
    """The artifact version a project serves."""

    number: int
    sha256: str


@dataclass(frozen=True)
class Inventory:
    tables: dict[str, TableState]
    versions: dict[str, PublishedVersion]

    @property
    def total_rows(self) -> int:
        return sum(state.rows for state in self.tables.values())


class Reader(Protocol):
    """Runs read-only SQL in one consistent view of a database."""

    vendor: str

    def all(self, sql: str, params: tuple = ()) -> list[tuple]: ...

    def stream(self, sql: str) -> Iterator[tuple]: ...


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLiteReader:
    """A plain `sqlite3` connection inside one read transaction."""

    vendor = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.connection.execute(sql, params).fetchall()

    def stream(self, sql: str) -> Iterator[tuple]:
        cursor = self.connection.execute(sql)
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield from rows


class PostgresReader:
    """A psycopg connection (opened by Django's backend) inside one transaction."""

    vendor = "postgresql"

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall()

    def stream(self, sql: str) -> Iterator[tuple]:
        with self.connection.cursor(name="objectos_inventory") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(sql)
            yield from cursor


@contextmanager
def sqlite_reader(path: Path | str, *, read_only: bool = True) -> Iterator[SQLiteReader]:
    """Read the SQLite file at `path` in one read transaction (a consistent view, even
    while other connections write in WAL mode)."""
    uri = f"file:{url_quote(str(Path(path).resolve()))}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(uri, uri=read_only, isolation_level=None, timeout=10)
    try:
        connection.execute("PRAGMA busy_timeout=10000")
        connection.execute("BEGIN")
        yield SQLiteReader(connection)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def open_postgres(settings_dict: dict[str, Any], alias: str = "objectos_ops") -> Any:
    """A new Django PostgreSQL connection wrapper for `settings_dict` (not the shared
    `connections["default"]`, so its transaction is its own)."""
    from django.db.utils import load_backend

    backend = load_backend(settings_dict["ENGINE"])
    wrapper = backend.DatabaseWrapper(dict(settings_dict), alias)
    wrapper.ensure_connection()
    return wrapper


@contextmanager
def postgres_reader(settings_dict: dict[str, Any]) -> Iterator[PostgresReader]:
    """Read the database of `settings_dict` in one REPEATABLE READ, read-only transaction."""
    import psycopg

    wrapper = open_postgres(settings_dict)
    try:
        raw = wrapper.connection
        raw.autocommit = False
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        yield PostgresReader(raw)
        raw.rollback()
    finally:
        wrapper.close()


def table_names(reader: Reader) -> list[str]:
    """Every table: Django's, django-q2's, the audit trail and each `<project>__<object>`."""
    if reader.vendor == "sqlite":
        rows = reader.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\'"
        )
    else:
        rows = reader.all(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        )
    return sorted(name for (name,) in rows)


def primary_key(reader: Reader, table: str) -> list[str]:
    if reader.vendor == "sqlite":
        info = reader.all(f"PRAGMA table_info({quote(table)})")
        return [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5] > 0]
    rows = reader.all(
        "SELECT a.attname FROM pg_catalog.pg_index i "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident(%s))::regclass "
        "AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,),
    )
    return [name for (name,) in rows]


def table_state(reader: Reader, table: str) -> TableState:
    """Count the rows of `table` and hash them in primary-key order (a table without a
    primary key, which Django never makes, is hashed as the sorted list of its rows)."""
    order = primary_key(reader, table)
    sql = f"SELECT * FROM {quote(table)}"  # noqa: S608 (a quoted identifier)
    if order:
        sql += " ORDER BY " + ", ".join(quote(column) for column in order)
        lines: Iterator[str] = (repr(tuple(row)) for row in reader.stream(sql))
    else:
        lines = iter(sorted(repr(tuple(row)) for row in reader.stream(sql)))
    digest = hashlib.sha256()
    rows = 0
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
        rows += 1
    return TableState(rows=rows, sha256=digest.hexdigest())


def published_versions(
    reader: Reader, tables: set[str] | None = None
) -> dict[str, PublishedVersion]:
    """{project name: its published version}, read with plain SQL on the projects tables."""
    project_table, version_table = Project._meta.db_table, AppVersion._meta.db_table
    present = tables if tables is not None else set(table_names(reader))
    if project_table not in present or version_table not in present:
        return {}
    published = Project._meta.get_field("published_version").column
    sql = (
        f"SELECT p.{quote('name')}, v.{quote('number')}, v.{quote('sha256')} "  # noqa: S608
        f"FROM {quote(project_table)} p JOIN {quote(version_table)} v "
        f"ON v.{quote('id')} = p.{quote(published)}"
    )
    return {
        name: PublishedVersion(number=int(number), sha256=sha256)
        for name, number, sha256 in sorted(reader.all(sql))
    }


def take_inventory(reader: Reader) -> Inventory:
    names = table_names(reader)
    tables = {name: table_state(reader, name) for name in names}
    return Inventory(tables=tables, versions=published_versions(reader, set(names)))
