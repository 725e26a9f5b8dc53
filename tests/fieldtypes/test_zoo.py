"""The real showcase artifact: every field of `showcase_field_zoo` builds and validates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import models

from apps.fieldtypes.base import Relation
from apps.fieldtypes.registry import all_types, get_type

from .conftest import FIELD_ATTRIBUTES, make_field

ARTIFACT = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "artifacts"
    / "showcase-v17"
    / "objectstack.json"
)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def zoo_fields() -> list[SimpleNamespace]:
    if not ARTIFACT.exists():
        pytest.skip(f"{ARTIFACT} is not available")
    objects = json.loads(ARTIFACT.read_text())["objects"]
    zoo = next(obj for obj in objects if obj["name"] == "showcase_field_zoo")
    fields = []
    for name, raw in zoo["fields"].items():
        attrs: dict[str, Any] = {
            snake(key): value for key, value in raw.items() if snake(key) in FIELD_ATTRIBUTES
        }
        if isinstance(attrs.get("expression"), dict):
            attrs["expression"] = attrs["expression"]["source"]
        fields.append(make_field(raw["type"], name=name, **attrs))
    return fields


def test_the_zoo_uses_only_registered_types():
    used = {field.type for field in zoo_fields()}
    assert used <= set(all_types())
    assert len(used) >= 48  # summary lives in crm-minimal-v17


def test_every_zoo_field_builds_its_column_default_and_schema():
    for field in zoo_fields():
        field_type = get_type(field.type)
        relation = None
        if field_type.relational and not field.multiple:
            relation = Relation(to="zoo.Target", on_delete=field_type.on_delete_for(field))
        column = field_type.model_field(field, relation)
        if field_type.storage == "none":
            assert column is None, field.name
        else:
            assert isinstance(column, models.Field) and column.db_column == field.name, field.name
        field_type.default(field)
        json.dumps(field_type.openapi_schema(field))


def test_zoo_defaults():
    defaults = {field.name: get_type(field.type).default(field) for field in zoo_fields()}
    assert defaults["f_percent"] == 50.0
    assert defaults["f_toggle"] is False and defaults["f_boolean"] is False
    assert defaults["f_select"] == "low"  # the option marked default
    assert defaults["f_owner"].token == "current_user"
    assert defaults["name"] is None


def test_zoo_columns():
    fields = {field.name: field for field in zoo_fields()}
    currency = get_type("currency").model_field(fields["f_currency"])
    assert isinstance(currency, models.DecimalField) and currency.decimal_places == 2
    assert isinstance(get_type("number").model_field(fields["f_number"]), models.FloatField)
    assert isinstance(get_type("lookup").model_field(fields["f_lookups"]), models.JSONField)
    assert get_type("slider").clean(fields["f_slider"], 35) == 35.0
    assert get_type("vector").clean(fields["f_vector"], [0.0] * 1536) == [0.0] * 1536
