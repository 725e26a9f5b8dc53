"""The JSON Schema (draft 2020-12) of a protocol-17 artifact, as pydantic derives it from `Artifact`.

The schema describes the camelCase wire format (aliases) as accepted for
validation; objects allow additional properties because unknown keys are kept.
"""

from __future__ import annotations

from typing import Any

from apps.artifact.models import Artifact

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `objectstack.json` (a new dict on every call)."""
    schema = Artifact.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}
