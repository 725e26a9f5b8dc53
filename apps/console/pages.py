"""The artifact's list and form views compiled once per kernel into page specs.

A list view (`views[].listViews.<name>` or `views[].list`) gives columns, a default
filter and sort, searchable and filterable fields, page size, grouping and kanban
settings; a form view (`formViews.<name>` or `form`) gives sections with columns and
fields (`required`, `readonly`, `visibleWhen`). An object without views gets a default
list (display field plus the next fields) and one section with every field. Specs name
fields only; what a reader may see is decided per request by security, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql.params import parse_sort

DEFAULT_PAGE_SIZE = 25
DEFAULT_COLUMNS = 6
# Field types a list offers as filters when the view does not name its filterable fields.
FILTER_TYPES = frozenset({"select", "radio", "boolean", "toggle"})
# Operators of the views' `[{field, operator, value}]` filters, as the API's array form.
VIEW_OPERATORS = {
    "equals": "=", "eq": "=", "=": "=", "not_equals": "!=", "ne": "!=", "!=": "!=",
    "less_than": "<", "lt": "<", "<": "<", "greater_than": ">", "gt": ">", ">": ">",
    "less_than_or_equal": "<=", "lte": "<=", "<=": "<=",
    "greater_than_or_equal": ">=", "gte": ">=", ">=": ">=",
    "contains": "contains", "not_contains": "notcontains", "starts_with": "startswith",
    "ends_with": "endswith", "in": "in", "not_in": "not in", "between": "between",
    "is_null": "is null", "is_empty": "is null", "is_not_null": "is not null",
    "is_not_empty": "is not null",
}  # fmt: skip


@dataclass(frozen=True)
class ListSpec:
    name: str
    label: str
    type: str
    columns: tuple[str, ...]
    filter: Any = None
    sort: tuple[tuple[str, bool], ...] = ()
    searchable: tuple[str, ...] | None = None
    filterable: tuple[str, ...] = ()
    page_size: int = DEFAULT_PAGE_SIZE
    group_by: str | None = None
    kanban_field: str | None = None
    bulk_actions: tuple[str, ...] = ()
    problem: str = ""  # why part of the view is not honoured (shown on the page)
    # The type's own block (`calendar: {startDateField, titleField}`, `gallery: {...}`,
    # `chart: {dataset, dimensions, values}`), empty when the view has none.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FormField:
    name: str
    required: bool = False
    readonly: bool = False
    visible_when: str | None = None


@dataclass(frozen=True)
class FormSection:
    name: str
    label: str
    columns: int
    fields: tuple[FormField, ...]
    collapsed: bool = False
    visible_when: str | None = None


@dataclass(frozen=True)
class FormSpec:
    name: str
    sections: tuple[FormSection, ...]


@dataclass
class ObjectPages:
    """The list and form views of one object, the first of each being the default."""

    name: str
    lists: dict[str, ListSpec] = field(default_factory=dict)
    forms: dict[str, FormSpec] = field(default_factory=dict)

    def list_view(self, name: str | None) -> ListSpec:
        return self.lists.get(name or "") or next(iter(self.lists.values()))

    def form_view(self, name: str | None = None) -> FormSpec:
        if name and name in self.forms:
            return self.forms[name]
        return self.forms.get("default") or next(iter(self.forms.values()))


def _names(items: Any) -> tuple[str, ...]:
    names = []
    for item in items or ():
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("field"), str):
            names.append(item["field"])
    return tuple(names)


def _view_object(view: dict[str, Any]) -> str | None:
    data = view.get("data")
    if isinstance(data, dict) and isinstance(data.get("object"), str):
        return data["object"]
    for key in ("object", "objectName"):
        if isinstance(view.get(key), str):
            return view[key]
    return None


def view_filter(spec: Any) -> Any:
    """The API filter of a view: `[{field, operator, value}]` becomes the array form;
    Mongo-style or array-form filters pass as they are. `{today}`-style tokens stay for
    `resolve_tokens` at request time."""
    if not spec:
        return None
    if isinstance(spec, list) and all(isinstance(c, dict) and "field" in c for c in spec):
        conditions: list[Any] = ["and"]
        for condition in spec:
            operator = str(condition.get("operator") or "equals").lower()
            mapped = VIEW_OPERATORS.get(operator)
            if mapped is None:
                raise ValueError(f"unknown filter operator '{operator}'")
            if mapped in ("is null", "is not null"):
                conditions.append([condition["field"], "is null", mapped == "is null"])
            else:
                conditions.append([condition["field"], mapped, condition.get("value")])
        return conditions
    return spec


def compile_list(runtime: ObjectRuntime, name: str, view: dict[str, Any]) -> ListSpec:
    problems = []
    try:
        filter_spec = view_filter(view.get("filter"))
    except ValueError as error:
        filter_spec, problems = ["and", ["id", "is null", True]], [str(error)]
    sort: list[tuple[str, bool]] = []
    if view.get("sort"):
        try:
            sort = parse_sort("sort", view["sort"])
        except Exception as error:  # an unreadable sort is reported, the list still shows
            problems.append(str(getattr(error, "message", error)))
    kanban = view.get("kanban") if isinstance(view.get("kanban"), dict) else {}
    kind = str(view.get("type") or "grid")
    options = view.get(kind) if isinstance(view.get(kind), dict) else {}
    columns = _names(view.get("columns")) or _names(kanban.get("columns"))
    if kind == "gallery" and isinstance(options.get("titleField"), str):
        columns = (options["titleField"], *_names(options.get("visibleFields")))
    grouping = view.get("grouping") or view.get("groupBy")
    if isinstance(grouping, dict):
        grouping = grouping.get("field") or (_names(grouping.get("fields")) or (None,))[0]
    pagination = view.get("pagination") if isinstance(view.get("pagination"), dict) else {}
    page_size = pagination.get("pageSize") or view.get("pageSize") or DEFAULT_PAGE_SIZE
    searchable = view.get("searchableFields")
    filterable = view.get("filterableFields")
    return ListSpec(
        name=name,
        label=str(view.get("label") or name.replace("_", " ").capitalize()),
        type=kind,
        columns=columns or default_columns(runtime),
        filter=filter_spec,
        sort=tuple(sort),
        searchable=_names(searchable) if searchable is not None else None,
        filterable=_names(filterable) if filterable is not None else default_filters(runtime),
        page_size=max(1, min(int(page_size), 200)) if str(page_size).isdigit() else 25,
        group_by=grouping if isinstance(grouping, str) else None,
        kanban_field=kanban.get("groupByField") if isinstance(kanban, dict) else None,
        bulk_actions=_names(view.get("bulkActions")),
        problem="; ".join(problems),
        options=dict(options),
    )


def default_columns(runtime: ObjectRuntime) -> tuple[str, ...]:
    names = [n for n, f in runtime.fields.items() if f.type.returned and not f.definition.hidden]
    display = runtime.display_field
    if display in names:
        names.remove(display)
        names.insert(0, display)
    return tuple(names[:DEFAULT_COLUMNS])


def default_filters(runtime: ObjectRuntime) -> tuple[str, ...]:
    return tuple(n for n, f in runtime.fields.items() if f.definition.type in FILTER_TYPES)


def compile_form(runtime: ObjectRuntime, name: str, view: dict[str, Any]) -> FormSpec:
    sections = []
    for index, section in enumerate(view.get("sections") or ()):
        if not isinstance(section, dict):
            continue
        fields = []
        for item in section.get("fields") or ():
            if isinstance(item, str):
                item = {"field": item}
            if not isinstance(item, dict) or item.get("field") not in runtime.fields:
                continue
            visible = item.get("visibleWhen")
            if isinstance(visible, dict):
                visible = visible.get("source")
            fields.append(
                FormField(
                    name=item["field"],
                    required=bool(item.get("required")),
                    readonly=bool(item.get("readonly") or item.get("readOnly")),
                    visible_when=visible if isinstance(visible, str) and visible else None,
                )
            )
        columns = section.get("columns")
        shown_when = section.get("visibleWhen")
        if isinstance(shown_when, dict):
            shown_when = shown_when.get("source")
        sections.append(
            FormSection(
                name=str(section.get("name") or f"section_{index}"),
                label=str(section.get("label") or ""),
                columns=columns if isinstance(columns, int) and 1 <= columns <= 4 else 1,
                fields=tuple(fields),
                collapsed=bool(section.get("collapsed")),
                visible_when=shown_when if isinstance(shown_when, str) and shown_when else None,
            )
        )
    if not sections:
        return default_form(runtime)
    return FormSpec(name=name, sections=tuple(sections))


def default_form(runtime: ObjectRuntime) -> FormSpec:
    fields = tuple(FormField(name=n) for n, f in runtime.fields.items() if not f.definition.hidden)
    return FormSpec(name="default", sections=(FormSection("main", "", 1, fields),))


def _inherit(spec: dict[str, Any], base: Any, key: str) -> dict[str, Any]:
    """A named list view without columns takes the columns of its object's `list`; a
    named form view without sections takes the sections of its object's `form`."""
    if not isinstance(base, dict) or spec is base:
        return spec
    kanban = spec.get("kanban") if isinstance(spec.get("kanban"), dict) else {}
    if (
        key == "listViews"
        and base.get("columns")
        and not (spec.get("columns") or kanban.get("columns"))
    ):
        spec = {**spec, "columns": base["columns"]}
    if key == "formViews" and base.get("sections") and not spec.get("sections"):
        spec = {**spec, "sections": base["sections"]}
    return spec


def compile_pages(kernel: Kernel) -> dict[str, ObjectPages]:
    """Every object's pages, from the artifact's views (defaults where none are declared)."""
    pages = {name: ObjectPages(name) for name in kernel.objects}
    for view in kernel.artifact.views:
        if not isinstance(view, dict):
            continue
        for key in ("listViews", "list", "formViews", "form"):
            part = view.get(key)
            named = part.items() if key.endswith("Views") and isinstance(part, dict) else []
            if key in ("list", "form") and isinstance(part, dict):
                named = [("default", part)]
            for name, spec in named:
                if not isinstance(spec, dict):
                    continue
                object_name = _view_object(spec) or _view_object(view)
                if object_name is None:
                    for other in ("list", "form"):
                        if isinstance(view.get(other), dict):
                            object_name = object_name or _view_object(view[other])
                    for other in ("listViews", "formViews"):
                        for sibling in (view.get(other) or {}).values():
                            if isinstance(sibling, dict):
                                object_name = object_name or _view_object(sibling)
                if object_name not in pages:
                    continue
                runtime = kernel.objects[object_name]
                spec = _inherit(spec, view.get("list" if key.startswith("list") else "form"), key)
                if key.startswith("list"):
                    if key == "list" and pages[object_name].lists:
                        continue  # listViews win over the single `list`
                    pages[object_name].lists[name] = compile_list(runtime, name, spec)
                else:
                    pages[object_name].forms.setdefault(name, compile_form(runtime, name, spec))
    for name, page in pages.items():
        runtime = kernel.objects[name]
        if not page.lists:
            label = runtime.definition.plural_label or runtime.label
            page.lists["default"] = compile_list(runtime, "default", {"label": label})
        if not page.forms:
            page.forms["default"] = default_form(runtime)
    return pages
