"""Dashboard widgets computed for one reader: metrics, counts and grouped aggregates.

A widget names a `dataset` (an object with named dimensions and measures), the measures
it shows (`values`), the dimensions it groups by and a filter. Rows come from objectql's
secured queryset of the reader (`query.scoped` + `query.apply_filters`: the row scope,
readable fields and the API's filter grammar), so a dashboard never counts a row or
reads a field the reader could not list through the API. Charts are drawn as tables
with proportional bars (no chart library, no inline script); a widget type that cannot
be drawn shows its title and "not supported" instead of failing the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Max, Min, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from apps.console.i18n import Translator
from apps.console.site import ConsoleSite
from apps.kernel.exceptions import ObjectNotFound
from apps.objectql import query
from apps.objectql.exceptions import ObjectQLError
from apps.objectql.params import QuerySpec
from apps.projects.context import Context
from apps.security.access import object_access
from apps.security.rules import compile_filter
from apps.security.rules.exceptions import RuleError

METRICS = frozenset({"metric", "kpi", "number", "statistic"})
GROUPED = frozenset({"bar", "column", "horizontal-bar", "line", "area", "pie", "donut",
                     "funnel", "table", "pivot", "combo"})  # fmt: skip
AGGREGATES = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
GRANULARITIES = frozenset({"day", "week", "month", "quarter", "year"})
MAX_GROUPS = 100
AGO = re.compile(r"^(\d{1,4})_(day|week|month|year)s?_ago$")


@dataclass
class Widget:
    """What the dashboard template draws for one widget."""

    id: str
    title: str
    type: str
    description: str = ""
    value: str | None = None  # a metric
    columns: list[str] = field(default_factory=list)  # a grouped table: header
    rows: list[dict[str, Any]] = field(default_factory=list)  # {cells, bar}
    problem: str = ""  # why nothing is drawn (not supported, not permitted, bad filter)
    note: str = ""  # what was left out (compareTo, dashboard filters)
    width: int = 6  # of 12 columns


# -- filter tokens -------------------------------------------------------------------


def _months_back(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, 28))


class Tokens(dict):
    """`{today}`-style values of view and widget filters for one request: today, now,
    current_user, current_{week,month,quarter,year}_{start,end} and `<n>_<unit>s_ago`."""

    def __init__(self, user_id: Any, today: dt.date | None = None) -> None:
        day = today or timezone.localdate()
        week = day - dt.timedelta(days=day.weekday())
        month = day.replace(day=1)
        quarter = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        year = day.replace(month=1, day=1)
        ends = {
            "week": week + dt.timedelta(days=6),
            "month": _months_back(month, -1) - dt.timedelta(days=1),
            "quarter": _months_back(quarter, -3) - dt.timedelta(days=1),
            "year": day.replace(month=12, day=31),
        }
        super().__init__(today=day.isoformat(), now=timezone.now().isoformat(),
                         current_user=user_id, me=user_id)  # fmt: skip
        for unit, start in (("week", week), ("month", month), ("quarter", quarter), ("year", year)):
            self[f"current_{unit}_start"] = start.isoformat()
            self[f"current_{unit}_end"] = ends[unit].isoformat()
        self._day = day

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        matched = AGO.match(str(key))
        if not matched:
            return default
        count, unit = int(matched[1]), matched[2]
        if unit in ("day", "week"):
            days = count * (7 if unit == "week" else 1)
            return (self._day - dt.timedelta(days=days)).isoformat()
        return _months_back(self._day, count * (12 if unit == "year" else 1)).isoformat()


def resolve_tokens(value: Any, tokens: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return tokens.get(value[1:-1].strip(), value)
    if isinstance(value, list):
        return [resolve_tokens(item, tokens) for item in value]
    if isinstance(value, dict):
        return {key: resolve_tokens(item, tokens) for key, item in value.items()}
    return value


# -- numbers -------------------------------------------------------------------------


def format_number(value: Any, measure: dict[str, Any]) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        value = float(value)
    fmt = str(measure.get("format") or "")
    if fmt.endswith("%"):
        decimals = len(fmt.split(".")[1]) - 1 if "." in fmt else 0
        return f"{value * 100:,.{decimals}f}%"
    if "." in fmt:
        decimals = len(fmt.split(".")[1])
    else:  # "0,0": whole numbers; no format: as precise as the value needs
        decimals = 0 if fmt or float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    currency = measure.get("currency")
    return f"{currency} {text}" if currency else text


# -- one widget ----------------------------------------------------------------------


class WidgetProblem(Exception):
    """Why a widget cannot be computed (shown in its box)."""


def _measure_expression(measure: dict[str, Any], resolve: Any, resolver: Any) -> Any:
    aggregate = str(measure.get("aggregate") or "count").lower()
    condition = None
    if measure.get("filter"):
        try:
            condition = compile_filter(measure["filter"], resolver)
        except RuleError as error:
            raise WidgetProblem(f"measure {measure.get('name')}: {error}") from None
    if aggregate in ("count", "count_distinct") and not measure.get("field"):
        return Count("pk", filter=condition)
    if aggregate == "count_distinct":
        return Count(resolve(measure.get("field")), distinct=True, filter=condition)
    function = AGGREGATES.get(aggregate)
    if function is None or not measure.get("field"):
        raise WidgetProblem(
            f"measure {measure.get('name')}: aggregate '{aggregate}' is not supported"
        )
    return function(resolve(measure["field"]), filter=condition)


def _derived(measure: dict[str, Any], values: dict[str, Any]) -> Any:
    derived = measure.get("derived") or {}
    parts = [values.get(name) for name in derived.get("of") or ()]
    if derived.get("op") == "ratio" and len(parts) == 2:
        top, bottom = parts
        return float(top) / float(bottom) if top is not None and bottom else None
    raise WidgetProblem(
        f"measure {measure.get('name')}: derived '{derived.get('op')}' is not supported"
    )


def _labels(ctx: Context, site: ConsoleSite, t: Translator, runtime: Any, name: str,
            values: list[Any], granularity: str | None) -> dict[Any, str]:  # fmt: skip
    """Display names of one dimension's values: option labels, record names, user
    names (only rows the reader may read are named), dates by granularity."""
    field_runtime = runtime.fields.get(name)
    labels: dict[Any, str] = {}
    for value in values:
        if value is None:
            labels[value] = "–"
        elif isinstance(value, dt.datetime | dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            labels[value] = {
                "year": f"{day.year}", "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
                "month": day.strftime("%Y-%m"),
            }.get(granularity or "", day.isoformat())  # fmt: skip
        else:
            labels[value] = str(value)
    if field_runtime is None:
        return labels
    options = {o.value: o.label or o.value for o in field_runtime.definition.options or ()}
    if options:
        for value in values:
            if isinstance(value, str) and value in options:
                labels[value] = t.option_label(runtime.name, name, value, options[value])
    elif field_runtime.target is not None:
        target = ctx.kernel.object(field_runtime.target)
        display = target.display_field
        access = object_access(ctx, target)
        ids = [str(v) for v in values if v is not None]
        if ids and access.can_read and display in access.readable:
            spec = QuerySpec(top=len(ids), select=[display], filters=[{"id": {"$in": ids}}])
            for row in query.list_records(ctx, target.name, spec)["records"]:
                labels[row["id"]] = str(row.get(display) or row["id"])
    elif field_runtime.type.relational:  # people
        users = get_user_model()._base_manager.filter(pk__in=[v for v in values if v is not None])
        for user in users:
            labels[user.pk] = user.get_full_name() or user.email or user.get_username()
    return labels


def compute(ctx: Context, site: ConsoleSite, t: Translator, spec: dict[str, Any]) -> Widget:
    """The widget `spec` of a dashboard (or a chart list view) for the reader."""
    kind = str(spec.get("type") or "metric")
    layout = spec.get("layout") if isinstance(spec.get("layout"), dict) else {}
    width = layout.get("w") if isinstance(layout.get("w"), int) else 6
    widget = Widget(id=str(spec.get("id") or ""), title=str(spec.get("title") or spec.get("id") or kind),
                    type=kind, description=str(spec.get("description") or ""),
                    width=max(2, min(12, width)))  # fmt: skip
    if kind not in METRICS and kind not in GROUPED:
        widget.problem = f"The widget type '{kind}' is not supported here."
        return widget
    if spec.get("compareTo"):
        widget.note = "The comparison with an earlier period is not shown."
    try:
        _fill(ctx, site, t, spec, widget)
    except WidgetProblem as error:
        widget.problem = str(error)
    except ObjectQLError as error:
        widget.problem = error.message
    return widget


def _fill(
    ctx: Context, site: ConsoleSite, t: Translator, spec: dict[str, Any], widget: Widget
) -> None:
    dataset = site.datasets.get(str(spec.get("dataset")))
    if dataset is None:
        raise WidgetProblem(f"no dataset '{spec.get('dataset')}'")
    try:
        runtime = ctx.kernel.object(str(dataset.get("object")))
    except ObjectNotFound:
        raise WidgetProblem(f"no object '{dataset.get('object')}'") from None
    access = object_access(ctx, runtime)
    if not access.can_read:
        raise WidgetProblem(f"You may not read {site.object_label(t, runtime.name, plural=True)}.")
    resolver = query.resolver_for(ctx, runtime, access)

    def resolve(name: Any) -> str:
        try:
            return resolver.resolve(str(name)).lookup
        except RuleError:
            known = runtime.fields.get(str(name))
            if known is not None and not known.stored and str(name) in access.readable:
                raise WidgetProblem(
                    f"field '{name}' is computed; it cannot be aggregated here"
                ) from None
            raise WidgetProblem(f"field '{name}' cannot be read") from None

    measures = {
        m["name"]: m for m in dataset.get("measures") or () if isinstance(m, dict) and "name" in m
    }
    dimensions = {
        d["name"]: d for d in dataset.get("dimensions") or () if isinstance(d, dict) and "name" in d
    }
    wanted = [str(v) for v in spec.get("values") or ()] or list(measures)[:1]
    unknown = [name for name in wanted if name not in measures]
    if unknown:
        raise WidgetProblem(f"no measure '{unknown[0]}' in dataset {dataset['name']}")
    needed = list(dict.fromkeys(
        [*wanted, *(p for n in wanted for p in (measures[n].get("derived") or {}).get("of") or ())]
    ))  # fmt: skip
    aggregates = {f"m{i}": _measure_expression(measures[n], resolve, resolver)
                  for i, n in enumerate(needed) if not measures[n].get("derived")}  # fmt: skip
    alias = {n: f"m{i}" for i, n in enumerate(needed)}
    tokens = Tokens(ctx.user_id)
    filters = [resolve_tokens(spec["filter"], tokens)] if spec.get("filter") else []
    rows = query.apply_filters(ctx, runtime, access, query.scoped(ctx, runtime, access),
                               QuerySpec(top=1, filters=filters))  # fmt: skip

    def measured(values: dict[str, Any]) -> dict[str, Any]:
        out = {n: values.get(alias[n]) for n in needed if not measures[n].get("derived")}
        for n in needed:
            if measures[n].get("derived"):
                out[n] = _derived(measures[n], out)
        return out

    if widget.type in METRICS:
        values = measured(rows.aggregate(**aggregates))
        widget.value = format_number(values[wanted[0]], measures[wanted[0]])
        return
    dims = [str(d) for d in spec.get("dimensions") or ()][:2]
    if not dims or any(d not in dimensions for d in dims):
        raise WidgetProblem("the widget names no dimension of its dataset")
    annotations: dict[str, Any] = {}
    granularity: dict[str, str | None] = {}
    for i, name in enumerate(dims):
        dimension = dimensions[name]
        lookup = resolve(dimension.get("field") or name)
        grain = dimension.get("dateGranularity")
        granularity[name] = grain if grain in GRANULARITIES else None
        annotations[f"d{i}"] = Trunc(lookup, grain) if grain in GRANULARITIES else F(lookup)
    keys = list(annotations)
    grouped = list(rows.annotate(**annotations).values(*keys).annotate(**aggregates)
                   .order_by(*(F(k).asc(nulls_first=True) for k in keys))[:MAX_GROUPS])  # fmt: skip
    field_of = {name: str(dimensions[name].get("field") or name) for name in dims}
    labels = {
        name: _labels(
            ctx, site, t, runtime, field_of[name], [g[f"d{i}"] for g in grouped], granularity[name]
        )  # fmt: skip
        for i, name in enumerate(dims)
    }
    widget.columns = [str(dimensions[d].get("label") or d) for d in dims] + [
        str(measures[n].get("label") or n) for n in wanted
    ]
    first = [measured(g)[wanted[0]] for g in grouped]
    top = max((float(v) for v in first if v is not None), default=0.0)
    for group, value in zip(grouped, first, strict=True):
        values = measured(group)
        cells = [labels[d][group[f"d{i}"]] for i, d in enumerate(dims)]
        cells += [format_number(values[n], measures[n]) for n in wanted]
        bar = round(100 * float(value) / top) if value is not None and top > 0 else 0
        widget.rows.append({"cells": cells, "bar": bar})


def dashboard_widgets(ctx: Context, site: ConsoleSite, t: Translator,
                      dashboard: dict[str, Any]) -> list[Widget]:  # fmt: skip
    widgets = [
        compute(ctx, site, t, w) for w in dashboard.get("widgets") or () if isinstance(w, dict)
    ]
    if dashboard.get("globalFilters") or dashboard.get("dateRange"):
        for widget in widgets:
            widget.note = " ".join(
                filter(None, [widget.note, "Dashboard filters are not applied."])
            )
    return widgets
