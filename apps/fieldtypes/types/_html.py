"""HTML family (html, richtext): text sanitised with nh3 (Ammonia) before it is stored.

nh3 keeps a safe allow-list of tags and attributes; it drops <script>/<style> with
their content, every on* handler and javascript: URLs. The stored value is what a
browser may render as is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nh3

from apps.fieldtypes.types._text import TextFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


def sanitize_html(value: str) -> str:
    """Safe HTML for `value` (tags outside the allow-list are removed, their text kept)."""
    return nh3.clean(value, url_schemes={"http", "https", "mailto", "tel"})


class HtmlFamily(TextFamily):
    """Rich content stored as sanitised HTML text; length is checked after sanitising."""

    def normalize(self, field: Field, value: str) -> str:
        return sanitize_html(value)
