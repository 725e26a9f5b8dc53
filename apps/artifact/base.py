"""Base of every artifact model (camelCase aliases, snake_case attributes, unknown keys kept) and `Expression`."""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

JsonObject = dict[str, Any]


class ArtifactModel(BaseModel):
    """Base of every artifact model: camelCase aliases, snake_case names, extras kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


class Expression(ArtifactModel):
    """An expression in a dialect (CEL unless told); a plain string means CEL source."""

    dialect: str = "cel"
    source: str

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"dialect": "cel", "source": data}
        return data
