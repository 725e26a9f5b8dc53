"""Rows -> wire records: values() reads, per-field converters, formulas and expand.

A Serializer is prepared once per request from the kernel's precompiled column lists;
reading a page is one SELECT plus one per expanded lookup, never one per row.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from apps.kernel.kernel import ObjectRuntime
from apps.objectql import computed, filemeta
from apps.objectql.exceptions import InvalidField
from apps.projects.context import Context
from apps.security.access import Access, object_access
from apps.security.principal import project_users
from apps.security.schema_resolver import SYSTEM_FIELD_DEFS

USER_EXPAND_COLUMNS = ("id", "email", "first_name", "last_name", "username")
DATETIME_COLUMNS = "serialize.datetime_columns"  # runtime.plans key
TEXT_FROM_ROWS = 20  # pages of at least this many rows read datetimes as stored text
LAYOUTS = "serialize.layouts"  # runtime.plans key: Serializer.for_request's layouts
MAX_LAYOUTS = 256  # per object
# What a Serializer works out from the fields alone (not from the actor or the request);
# shared by every serializer of one layout, so never changed after __init__.
LAYOUT = ("columns", "summaries", "converters", "formulas", "extra", "expand", "files", "order")


class Serializer:
    """Reads and renders the selected fields of one object for one actor."""

    def __init__(
        self,
        ctx: Context,
        runtime: ObjectRuntime,
        access: Access,
        names: list[str],
        expand: list[str],
    ) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.access = access
        self.columns = [
            n
            for n in names
            if n in SYSTEM_FIELD_DEFS
            or (runtime.fields[n].stored and runtime.fields[n].type.returned)
        ]
        self.summaries = [
            n
            for n in names
            if n in runtime.fields and runtime.fields[n].definition.type == "summary"
        ]
        wanted = set(names)
        self.converters = [(c, f) for c, f in runtime.converters if c in wanted]
        programs = runtime.plans.get("formulas")
        if programs is None:
            programs = runtime.plans["formulas"] = computed.formula_programs(runtime)
        self.formulas = {n: p for n, p in programs.items() if n in wanted}
        # Formulas read every readable stored field, also those not selected.
        self.extra = []
        if self.formulas:
            self.extra = [
                n
                for n in runtime.read_columns
                if n not in wanted and (n in SYSTEM_FIELD_DEFS or n in access.readable)
            ]
        self.expand = self._check_expand(expand, wanted)
        # Media fields: stored files get their download route as `url`.
        self.files = tuple(n for n in filemeta.media_fields(runtime) if n in wanted)
        # Computed values are added after the stored ones; restore the artifact's order.
        self.order = list(names) if (self.formulas or self.summaries) else None

    @classmethod
    def for_request(
        cls,
        ctx: Context,
        runtime: ObjectRuntime,
        access: Access,
        names: list[str],
        expand: list[str],
    ) -> Serializer:
        """A serializer for this request, its layout (columns, converters, formulas...)
        worked out once per kernel for these fields, expansions and readable fields."""
        layouts = runtime.plans.get(LAYOUTS)
        if layouts is None:
            layouts = runtime.plans[LAYOUTS] = {}
        key = (tuple(names), tuple(expand), access.readable)
        layout = layouts.get(key)
        if layout is None:
            made = cls(ctx, runtime, access, names, expand)  # checks the expansions
            if len(layouts) < MAX_LAYOUTS:  # `$select` is the client's: keep the cache bounded
                layouts[key] = {n: made.__dict__[n] for n in LAYOUT}
            return made
        serializer = cls.__new__(cls)
        serializer.__dict__.update(layout, ctx=ctx, runtime=runtime, access=access)
        return serializer

    def _check_expand(self, expand: list[str], wanted: set[str]) -> list[str]:
        for name in expand:
            field = self.runtime.fields.get(name)
            if field is None or name not in self.access.readable or not field.type.relational:
                raise InvalidField(f"'{name}' is not an expandable lookup field", field=name)
        return [name for name in expand if name in wanted]

    def fetch(self, rows: QuerySet, offset: int, limit: int) -> list[dict[str, Any]]:
        page, columns = self.page(rows, offset, limit)
        return [dict(zip(columns, row)) for row in page]  # noqa: B905 - same length

    def page(self, rows: QuerySet, offset: int, limit: int) -> tuple[QuerySet, tuple[str, ...]]:
        """The query of one page (a `values_list`) and the columns its rows hold, in order."""
        if self.summaries:
            rows = rows.annotate(
                **computed.summary_annotations(self.ctx.kernel, self.runtime, self.summaries)
            )
        columns = (*self.columns, *self.extra, *self.summaries)
        # the CAST costs ~0.1-0.2 ms of query building, repaid from ~20 rows (4 µs a value)
        as_text = self._stored_text(columns, rows.db) if limit >= TEXT_FROM_ROWS else {}
        if as_text:
            rows = rows.annotate(
                **{as_text[c]: Cast(c, TextField()) for c in columns if c in as_text}
            )
        # values_list + zip: the rows come back in `columns` order, and dict(zip()) is
        # quicker than the dict comprehension values() would run per row.
        page = rows.values_list(*(as_text.get(c, c) for c in columns))[offset : offset + limit]
        return page, columns

    def _stored_text(self, columns: tuple[str, ...], alias: str) -> dict[str, str]:
        """On SQLite, the datetime columns to read as the text they are stored as, each
        with the name of its text annotation (a name no field of the model has).

        sqlite3 parses a `datetime` column into a naive datetime, Django makes it aware
        and the wire converter formats it back into text: ~4 µs a value, 100 values in a
        list of 50. Read through CAST(... AS text), `to_iso_z` re-cuts the stored text
        instead (apps.fieldtypes.types.datetime). Formulas compute on datetimes: with
        formulas, the values come as Django gives them."""
        if self.formulas or connections[alias].vendor != "sqlite":
            return {}
        stored = self.runtime.plans.get(DATETIME_COLUMNS)
        if stored is None:
            stored = self.runtime.plans[DATETIME_COLUMNS] = _text_aliases(self.runtime)
        return {name: text for name, text in stored.items() if name in columns}

    def pick(self, row: dict[str, Any]) -> dict[str, Any]:
        """From a whole stored row (a write's RETURNING), what `fetch` would have read."""
        return {name: row[name] for name in (*self.columns, *self.extra)}

    def render(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.formulas:  # on stored values (dates, decimals), before wire conversion
            for row in rows:
                computed.evaluate_formulas(self.formulas, row)
                for name in self.extra:
                    del row[name]
        for row in rows:
            for column, convert in self.converters:
                value = row.get(column)
                if value is not None:
                    row[column] = convert(value)
        if self.files:
            filemeta.add_download_urls(
                self.ctx.kernel.project_name, self.runtime.name, self.files, rows
            )
        for name in self.expand:
            self._expand(rows, name)
        if self.order is not None:
            order = self.order
            rows[:] = [{name: row[name] for name in order if name in row} for row in rows]
        return rows

    def render_one(self, row: dict[str, Any]) -> dict[str, Any]:
        return self.render([row])[0]

    def _expand(self, rows: list[dict[str, Any]], name: str) -> None:
        field = self.runtime.fields[name]
        ids: set[Any] = set()
        for row in rows:
            value = row.get(name)
            if isinstance(value, list):
                ids.update(value)
            elif value is not None:
                ids.add(value)
        if not ids:
            return
        if field.target is None:
            users = get_user_model()._base_manager.filter(pk__in=ids)
            if not self.ctx.is_superuser:  # a user of another project stays a raw id
                users = users.filter(project_users(self.ctx.project_id))
            found = {u["id"]: u for u in users.values(*USER_EXPAND_COLUMNS)}
        else:
            target = self.ctx.kernel.object(field.target)
            target_access = object_access(self.ctx, target)
            if not target_access.can_read:
                return
            from apps.objectql.params import QuerySpec
            from apps.objectql.query import scoped, selected_fields

            nested = Serializer(
                self.ctx,
                target,
                target_access,
                selected_fields(target, target_access, QuerySpec(top=0)),
                [],
            )
            found = {
                r["id"]: r
                for r in nested.render(
                    nested.fetch(
                        scoped(self.ctx, target, target_access).filter(pk__in=ids), 0, len(ids)
                    )
                )
            }
        for row in rows:
            value = row.get(name)
            if isinstance(value, list):
                row[name] = [found.get(item, item) for item in value]
            elif value is not None:
                row[name] = found.get(value, value)


def _text_aliases(runtime: ObjectRuntime) -> dict[str, str]:
    """Datetime column -> the name its text is read under (`<column>_text`, lengthened
    with `_` until no field or column of the model is called that)."""
    taken = {f.name for f in runtime.model._meta.get_fields()} | set(runtime.fields)
    aliases = {}
    for field in runtime.model._meta.concrete_fields:
        if field.get_internal_type() == "DateTimeField":
            text = f"{field.name}_text"
            while text in taken:
                text += "_"
            taken.add(text)
            aliases[field.name] = text
    return aliases
