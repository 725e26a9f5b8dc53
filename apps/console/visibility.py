"""`visibleWhen` of form rows and sections, evaluated on the server for the values on screen.

A row is shown when every condition on it holds: the form view item's `visibleWhen` and
the field definition's own `visibleWhen`; a section with conditions of its own is shown
when they hold and at least one of its rows is. Conditions are CEL over `record` (the
record merged with what the reader has typed so far) and `current_user`, evaluated by the
same compiler as every other rule; the browser never runs CEL, it asks the form's
visibility route (apps.console.views.records.form_visibility) and hides or shows rows.

Hiding is a convenience, never a security boundary: a condition that cannot be evaluated
shows the row, and what a reader may see or write is decided by security alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms

from apps.console import fields as widgets
from apps.kernel.kernel import ObjectRuntime
from apps.projects.context import Context
from apps.security.principal import principal_of
from apps.security.rules import CelError, compile_cel


def condition_source(value: Any) -> str | None:
    """The CEL source of a `visibleWhen` (an Expression, a `{dialect, source}` dict or a
    string); None when there is none. Another dialect cannot be evaluated: None (shown)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        dialect, source = value.get("dialect", "cel"), value.get("source")
    else:
        dialect, source = getattr(value, "dialect", "cel"), getattr(value, "source", None)
    if dialect != "cel" or not isinstance(source, str) or not source.strip():
        return None
    return source


def holds(conditions: Iterable[str], activation: Mapping[str, Any]) -> bool:
    """True when every condition holds (one that fails to evaluate counts as true)."""
    for source in conditions:
        try:
            if not compile_cel(source).evaluate_bool(activation):
                return False
        except CelError:
            continue
    return True


def activation(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a condition reads: `record.<field>` and the reader as `current_user`/`user`."""
    return {**principal_of(ctx).variables(), "record": dict(values)}


def _plain(kind: str, value: Any) -> Any:
    """A value as CEL compares it: ids for relations, floats for decimals."""
    if kind in ("relation", "user") and value is not None:
        if isinstance(value, list):
            return [item.get("id") if isinstance(item, dict) else item for item in value]
        value = value.get("id") if isinstance(value, dict) else value
        return int(value) if kind == "user" and str(value).isdigit() else value
    if isinstance(value, Decimal):
        return float(value)
    return value


def current_values(
    runtime: ObjectRuntime, record: Mapping[str, Any], form: forms.Form
) -> dict[str, Any]:
    """Every field of the object (null when unknown), the record's values, and over them
    what the bound form holds now (values that do not parse count as null)."""
    values: dict[str, Any] = dict.fromkeys(runtime.fields)
    for name, value in record.items():
        field = runtime.fields.get(name)
        values[name] = _plain(widgets.kind_of(field), value) if field else value
    if form.is_bound:
        for name in form.fields:
            field = runtime.fields[name]
            wire, problem = widgets.to_wire(field, form[name].value())
            if wire is widgets.OMIT:
                continue
            values[name] = None if problem else _plain(widgets.kind_of(field), wire)
    return values
