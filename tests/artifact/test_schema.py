"""Tests of apps.artifact.schema: the JSON Schema describes the camelCase wire format."""

from __future__ import annotations

import json

from apps.artifact.models import FIELD_TYPES, NAME_PATTERN
from apps.artifact.schema import SCHEMA_DIALECT, json_schema


def test_json_schema_of_the_artifact() -> None:
    schema = json_schema()
    assert schema["$schema"] == SCHEMA_DIALECT
    assert schema["required"] == ["manifest"]
    assert {"manifest", "objects", "sharingRules", "runtimeModule", "permissions"} <= set(
        schema["properties"]
    )
    definitions = schema["$defs"]
    assert definitions["Field"]["properties"]["type"]["enum"] == list(FIELD_TYPES)
    assert "summaryOperations" in definitions["Field"]["properties"]
    assert definitions["Object"]["properties"]["fields"]["patternProperties"] == {
        NAME_PATTERN: {"$ref": "#/$defs/Field"}
    }
    assert definitions["Object"]["additionalProperties"] is True
    json.dumps(schema)  # plain JSON


def test_json_schema_is_a_fresh_dict() -> None:
    first = json_schema()
    first["properties"].clear()
    assert json_schema()["properties"]
