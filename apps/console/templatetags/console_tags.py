"""Template helpers of the Console: query strings that change one parameter."""

from __future__ import annotations

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag
def query_with(query: QueryDict, key: str, value: object = None, reset_page: bool = True) -> str:
    """`?...` with `key` set to `value` (removed when value is None or ""); the page
    number is reset unless `key` is the page itself."""
    changed = query.copy()
    changed.pop("lang", None)
    if reset_page and key != "p":
        changed.pop("p", None)
    if value is None or value == "":
        changed.pop(key, None)
    else:
        changed[key] = str(value)
    encoded = changed.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def sort_toggle(column: dict) -> str:
    """The sort parameter a column header links to: ascending, then descending."""
    if column["sorted"] and not column["descending"]:
        return f"-{column['name']}"
    return column["name"]
