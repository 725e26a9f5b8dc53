"""Parse list parameters (query string or /query body) into a validated QuerySpec.

Accepted names (ObjectStack protocol 17): top|limit, skip|offset, sort|orderBy,
select|fields, filter|where, expand, search, count. Any other name is an equality
filter on that field. Page size is capped at OS_MAX_PAGE_SIZE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings

from apps.objectql.exceptions import InvalidQuery

ALIASES = {
    "top": "top", "limit": "top", "$top": "top",
    "skip": "skip", "offset": "skip", "$skip": "skip",
    "sort": "sort", "orderBy": "sort", "orderby": "sort", "$orderby": "sort",
    "select": "select", "fields": "select", "$select": "select",
    "filter": "filter", "where": "filter", "filters": "filter", "$filter": "filter",
    "expand": "expand", "$expand": "expand",
    "search": "search", "q": "search", "$search": "search",
    "count": "count", "$count": "count",
}  # fmt: skip
IGNORED = frozenset({"format", "_"})
MAX_OFFSET = 2**31 - 1


@dataclass
class QuerySpec:
    top: int
    skip: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    select: list[str] | None = None
    filters: list[Any] = field(default_factory=list)  # filter specs, AND-ed
    expand: list[str] = field(default_factory=list)
    search: str | None = None
    count: bool = True


def parse(params: dict[str, Any], *, from_query_string: bool) -> QuerySpec:
    spec = QuerySpec(top=settings.OS_DEFAULT_PAGE_SIZE)
    equality: dict[str, Any] = {}
    for raw_name, value in params.items():
        name = ALIASES.get(raw_name)
        if name is None:
            if raw_name not in IGNORED:
                equality[raw_name] = value
            continue
        if name == "top":
            spec.top = min(_integer(raw_name, value), settings.OS_MAX_PAGE_SIZE)
        elif name == "skip":
            spec.skip = _integer(raw_name, value)
        elif name == "sort":
            spec.sort = parse_sort(raw_name, value)
        elif name == "select":
            spec.select = _names(raw_name, value)
        elif name == "filter":
            spec.filters.append(_json(raw_name, value) if from_query_string else value)
        elif name == "expand":
            spec.expand = _names(raw_name, value)
        elif name == "search":
            if value is not None and not isinstance(value, str):
                raise InvalidQuery("search must be a string", field=raw_name)
            spec.search = value.strip() or None if value else None
        elif name == "count":
            spec.count = _boolean(raw_name, value)
    if equality:
        spec.filters.append(equality)
    return spec


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidQuery(f"{name} must be a non-negative integer", field=name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidQuery(f"{name} must be a non-negative integer", field=name) from None
    if number < 0 or (isinstance(value, float) and value != number):
        raise InvalidQuery(f"{name} must be a non-negative integer", field=name)
    if number > MAX_OFFSET:
        raise InvalidQuery(f"{name} must be at most {MAX_OFFSET}", field=name)
    return number


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
        return value.lower() in {"true", "1"}
    raise InvalidQuery(f"{name} must be true or false", field=name)


def _json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise InvalidQuery(f"{name} is not valid JSON: {error}", field=name) from None


def _names(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _json(name, text)
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise InvalidQuery(f"{name} must be a comma-separated list of field names", field=name)


def parse_sort(name: str, value: Any) -> list[tuple[str, bool]]:
    """`-a,b`, `a desc, b asc`, `["-a", "b"]`, `[{"field": "a", "order": "desc"}]`, `{"a": -1}`."""
    if isinstance(value, str) and value.strip().startswith(("[", "{")):
        value = _json(name, value.strip())
    items: list[Any]
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = [{"field": key, "order": order} for key, order in value.items()]
    else:
        raise InvalidQuery(f"{name} must be a field list like '-amount,name'", field=name)
    result = []
    for item in items:
        if isinstance(item, str):
            words = item.strip().split()
            if len(words) == 2 and words[1].lower() in {"asc", "desc"}:
                result.append((words[0], words[1].lower() == "desc"))
            elif len(words) == 1:
                result.append((words[0].lstrip("-+"), words[0].startswith("-")))
            else:
                raise InvalidQuery(f"cannot read sort item '{item}'", field=name)
        elif isinstance(item, dict) and isinstance(item.get("field"), str):
            order = item.get("order", item.get("direction", "asc"))
            descending = order in (-1, "-1") or str(order).lower() == "desc"
            result.append((item["field"], descending))
        else:
            raise InvalidQuery(f"cannot read sort item {item!r}", field=name)
    return result
