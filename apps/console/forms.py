"""The record form: a Django form built per request from a form view and the reader's access.

Only fields the reader may read are shown; of those, only fields it may edit get a
widget (others are shown as values). A row or section whose `visibleWhen` is false for
the values on screen is rendered hidden (apps.console.visibility; the browser asks again
as the reader edits), and a hidden field's value is never written. Submitted values
become an objectql payload; objectql then validates and writes, and its field problems
are put back next to their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.console import fields as widgets
from apps.console.i18n import Translator
from apps.console.pages import FormSpec
from apps.console.site import ConsoleSite
from apps.console.visibility import activation, condition_source, current_values, holds
from apps.kernel.kernel import FieldRuntime, ObjectRuntime
from apps.objectql import query
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.params import QuerySpec
from apps.projects.context import Context
from apps.security.access import Access, object_access
from apps.security.principal import project_users

LOOKUP_CHOICES = 50
USER_CHOICES = 200


@dataclass
class Row:
    name: str
    label: str
    required: bool
    help: str = ""
    field: forms.BoundField | None = None  # None: shown read-only
    value: Any = ""
    conditions: tuple[str, ...] = ()  # visibleWhen sources (view item, field definition)
    hidden: bool = False


@dataclass
class Section:
    name: str
    label: str
    columns: int
    rows: list[Row] = field(default_factory=list)
    collapsed: bool = False
    conditions: tuple[str, ...] = ()
    hidden: bool = False


def lookup_choices(
    ctx: Context, target: ObjectRuntime, current: list[str], term: str = ""
) -> list[tuple[str, str]]:
    """(id, name) pairs of target rows the reader may read: the first ones (or those
    matching `term`) plus the current values; through objectql, so scopes apply."""
    access = object_access(ctx, target)
    if not access.can_read:
        return [(value, value) for value in current]
    display = target.display_field if target.display_field in access.readable else None
    select = [display] if display else []
    sort = [(display, False)] if display and target.fields[display].type.sortable else []
    spec = QuerySpec(top=LOOKUP_CHOICES, select=select, sort=sort, count=False, search=term or None)
    rows = query.list_records(ctx, target.name, spec)["records"]
    if current:
        known = {row["id"] for row in rows}
        missing = [value for value in current if value not in known]
        if missing:
            spec = QuerySpec(top=len(missing), select=select, filters=[{"id": {"$in": missing}}])
            rows += query.list_records(ctx, target.name, spec)["records"]
    return [
        (row["id"], str(row.get(display) or row["id"]) if display else row["id"]) for row in rows
    ]


def user_choices(ctx: Context) -> list[tuple[str, str]]:
    users = get_user_model()._base_manager.filter(project_users(ctx.project_id), is_active=True)
    return [
        (str(pk), (f"{first} {last}".strip() or email or username))
        for pk, email, username, first, last in users.order_by("username").values_list(
            "pk", "email", "username", "first_name", "last_name"
        )[:USER_CHOICES]
    ]


class RecordForm:
    """One form view of one object for one reader; `record` is the wire record (or None)."""

    def __init__(
        self,
        ctx: Context,
        site: ConsoleSite,
        t: Translator,
        runtime: ObjectRuntime,
        access: Access,
        spec: FormSpec,
        record: dict[str, Any] | None,
        data: Any = None,
        files: Any = None,
    ) -> None:
        self.ctx, self.site, self.t, self.runtime, self.spec = ctx, site, t, runtime, spec
        self.creating = record is None
        self.record = record or {}
        may_write = access.can_create if self.creating else access.can_edit
        form_fields: dict[str, forms.Field] = {}
        self.rows: dict[str, Row] = {}
        self.sections: list[Section] = []
        self.required_by_view: set[str] = set()
        for section_spec in spec.sections:
            section = Section(
                name=section_spec.name,
                label=t.section_label(runtime.name, section_spec.name, section_spec.label),
                columns=section_spec.columns,
                collapsed=section_spec.collapsed,
                conditions=tuple(filter(None, [condition_source(section_spec.visible_when)])),
            )
            for item in section_spec.fields:
                runtime_field = runtime.fields.get(item.name)
                if runtime_field is None or item.name in self.rows:
                    continue
                readable = item.name in access.readable
                editable = (
                    may_write
                    and item.name in access.editable
                    and widgets.kind_of(runtime_field) != "computed"
                    and not item.readonly
                    and not (runtime_field.definition.readonly and not self.creating)
                )
                if not readable and not (editable and self.creating):
                    continue  # a hidden field is absent, not blank
                required = bool(runtime_field.definition.required or item.required)
                if item.required and editable and not runtime_field.definition.required:
                    self.required_by_view.add(item.name)  # objectql checks the others
                label = site.field_label(t, runtime.name, item.name)
                conditions = (item.visible_when, runtime_field.definition.visible_when)
                row = Row(
                    name=item.name,
                    label=label,
                    conditions=tuple(filter(None, map(condition_source, conditions))),
                    required=required and editable,
                    help=t.field_help(
                        runtime.name, item.name, runtime_field.definition.description or ""
                    ),
                )
                if editable:
                    form_fields[item.name] = self._form_field(runtime_field, label, required)
                else:
                    row.value = widgets.display(
                        runtime_field,
                        self.record.get(item.name),
                        self.option_label,
                        self.display_field_of,
                    )
                self.rows[item.name] = row
                section.rows.append(row)
            if section.rows:
                self.sections.append(section)
        initial = {
            name: widgets.initial(runtime.fields[name], self.record.get(name))
            for name in form_fields
        }
        form_class = type("RecordForm", (forms.Form,), dict(form_fields))
        self.form: forms.Form = form_class(data=data, files=files, initial=initial)
        for name in form_fields:
            self.rows[name].field = self.form[name]
        self.conditional = any(r.conditions for r in self.rows.values()) or any(
            s.conditions for s in self.sections
        )
        if self.conditional:
            self.apply_visibility()

    def apply_visibility(self) -> None:
        """Hide the rows and sections whose conditions fail for the values on screen."""
        values = activation(self.ctx, current_values(self.runtime, self.record, self.form))
        for section in self.sections:
            for row in section.rows:
                row.hidden = not holds(row.conditions, values)
            section.hidden = not holds(section.conditions, values) or all(
                row.hidden for row in section.rows
            )
            if section.hidden:
                for row in section.rows:
                    row.hidden = True

    def visibility(self) -> dict[str, dict[str, bool]]:
        """`{fields: {name: shown}, sections: {name: shown}}` (the visibility route's body)."""
        return {
            "fields": {name: not row.hidden for name, row in self.rows.items()},
            "sections": {s.name: not s.hidden for s in self.sections},
        }

    def option_label(self, field_name: str, value: str, default: str) -> str:
        return self.t.option_label(self.runtime.name, field_name, value, default)

    def display_field_of(self, object_name: str) -> str | None:
        return self.ctx.kernel.object(object_name).display_field

    def _form_field(self, runtime_field: FieldRuntime, label: str, required: bool) -> forms.Field:
        kind = widgets.kind_of(runtime_field)
        choices = None
        search_url = ""
        current = widgets.initial(runtime_field, self.record.get(runtime_field.name))
        current_ids = [] if current is None else current if isinstance(current, list) else [current]
        if kind in ("choice", "choices"):
            choices = widgets.options(runtime_field, self.option_label)
        elif kind == "relation":
            target = self.ctx.kernel.object(runtime_field.target)
            choices = lookup_choices(self.ctx, target, current_ids)
            search_url = (
                f"{settings.CONSOLE_PATH_PREFIX}/o/{self.runtime.name}/autocomplete/"
                f"?field={runtime_field.name}"
            )
        elif kind == "user":
            choices = user_choices(self.ctx)
        return widgets.form_field(
            runtime_field, label, required=required, choices=choices, search_url=search_url
        )

    def is_valid(self) -> bool:
        return self.form.is_valid()

    def payload(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(objectql payload, uploads by field) of a valid form; parse problems and
        fields the view requires are added as form errors (check `form.errors` after)."""
        payload: dict[str, Any] = {}
        uploads: dict[str, Any] = {}
        for name, value in list(self.form.cleaned_data.items()):
            if self.rows[name].hidden:
                continue  # not on screen: its value is neither checked nor written
            runtime_field = self.runtime.fields[name]
            if widgets.kind_of(runtime_field) == "media":
                if value:
                    uploads[name] = value
                continue
            wire, problem = widgets.to_wire(runtime_field, value)
            if problem:
                self.form.add_error(name, problem)
                continue
            if wire is widgets.OMIT:
                continue
            if name in self.required_by_view and wire in (None, "", []):
                self.form.add_error(name, "This field is required.")
                continue
            if not self.creating and wire == self._current(name):
                continue  # unchanged: a write would only repeat it
            payload[name] = wire
        return payload, uploads

    def _current(self, name: str) -> Any:
        value = self.record.get(name)
        runtime_field = self.runtime.fields[name]
        if widgets.kind_of(runtime_field) in ("relation", "user"):
            shown = widgets.initial(runtime_field, value)
            if widgets.kind_of(runtime_field) == "user" and isinstance(shown, str):
                return int(shown) if shown.isdigit() else shown
            return shown
        return value

    def show_error(self, error: ObjectQLError) -> None:
        """objectql's answer next to the fields it names, else above the form."""
        placed = False
        for problem in error.fields or ():
            name = str(problem.get("field", ""))
            if name in self.form.fields:
                self.form.add_error(name, str(problem.get("message", error.message)))
                placed = True
        if error.field in self.form.fields and not error.fields:
            self.form.add_error(error.field, error.message)
            placed = True
        if not placed:
            self.form.add_error(None, error.message)
