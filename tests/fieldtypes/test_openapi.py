"""openapi_schema: one JSON Schema fragment per type."""

from __future__ import annotations

import json

import pytest

from apps.fieldtypes.registry import all_types, get_type

from .conftest import make_field


@pytest.mark.parametrize("type_name", sorted(all_types()))
def test_every_type_gives_a_json_schema_fragment(type_name):
    schema = get_type(type_name).openapi_schema(make_field(type_name, reference="account"))
    assert isinstance(schema, dict)
    json.dumps(schema)


@pytest.mark.parametrize(
    ("type_name", "attrs", "schema"),
    [
        ("text", {"max_length": 200}, {"type": "string", "maxLength": 200}),
        ("email", {}, {"type": "string", "format": "email"}),
        ("url", {}, {"type": "string", "format": "uri"}),
        ("password", {}, {"type": "string", "format": "password", "writeOnly": True}),
        ("number", {"min": 0, "max": 1000}, {"type": "number", "minimum": 0, "maximum": 1000}),
        ("currency", {}, {"type": "number", "multipleOf": 0.01}),
        ("rating", {}, {"type": "integer", "minimum": 1, "maximum": 5}),
        ("slider", {"step": 5}, {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 5}),
        ("date", {}, {"type": "string", "format": "date"}),
        ("datetime", {}, {"type": "string", "format": "date-time"}),
        ("time", {}, {"type": "string", "format": "time"}),
        ("boolean", {}, {"type": "boolean"}),
        ("select", {"options": ["a", "b"]}, {"type": "string", "enum": ["a", "b"]}),
        (
            "multiselect",
            {"options": ["a", "b"]},
            {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "uniqueItems": True},
        ),
        ("tags", {}, {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        ("lookup", {}, {"type": "string", "description": "id of a account record"}),
        (
            "user",
            {"multiple": True},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "description": "id of a account record"},
                "uniqueItems": True,
            },
        ),
        ("vector", {"dimensions": 3}, {"type": "array", "items": {"type": "number"}, "maxItems": 3}),
        ("formula", {}, {"readOnly": True}),
        ("autonumber", {}, {"type": "string", "readOnly": True}),
        ("json", {}, {}),
    ],
)  # fmt: skip
def test_schemas(type_name, attrs, schema):
    field = make_field(type_name, reference="account", **attrs)
    assert get_type(type_name).openapi_schema(field) == schema
