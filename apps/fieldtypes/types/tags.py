"""tags: a JSON array of distinct non-empty strings (trimmed), in the order given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.checks import expect_str
from apps.fieldtypes.registry import register
from apps.fieldtypes.types._list import ListFamily

if TYPE_CHECKING:
    from apps.artifact.models import Field


@register
class TagsType(ListFamily):
    name = "tags"
    text_searchable = False

    def clean_item(self, field: Field, item: Any) -> str:
        tag = expect_str(field, item).strip()
        if not tag:
            raise FieldValueError("invalid_tag", f"{field.name}: a tag cannot be empty")
        return tag

    def operand_item(self, field: Field, item: Any) -> str:
        return expect_str(field, item).strip()
