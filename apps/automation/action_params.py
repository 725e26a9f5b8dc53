"""Action parameters and `{var}` templates: checked the way record fields are.

An action's `params` are declared like fields (`name`, `type`, `required`, `options`,
`reference`, `multiple`, `defaultValue`); each value a client sends is cleaned by the
field type of the same name (a `date` param accepts `2026-11-21`, a `select` one of its
options), so the rules are the record rules. Unknown names, missing required values and
bad values are listed together: 400 `VALIDATION_FAILED` naming each param.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from apps.artifact.models import Field
from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type
from apps.kernel.kernel import Kernel
from apps.objectql.exceptions import ValidationFailed
from apps.objectql.validate import problem
from apps.projects.context import Context

# Param types whose values are descriptors of uploaded files: passed through as given.
MEDIA_TYPES = frozenset({"file", "image", "avatar", "video", "audio"})
# Param types that are not field types but common in action forms.
TEXT_ALIASES = {"string": "text", "longtext": "textarea", "int": "number", "integer": "number"}


def _param_field(spec: Mapping[str, Any]) -> Field | None:
    """The spec as a Field (for its type's `clean`); None when its type has no field type."""
    kind = TEXT_ALIASES.get(str(spec.get("type") or "text"), str(spec.get("type") or "text"))
    data = {k: v for k, v in spec.items() if k not in ("required", "unique")}
    data["type"] = kind
    try:
        return Field.model_validate(data)
    except ValidationError:
        return None


def clean_params(
    ctx: Context, declared: list[Mapping[str, Any]], given: Any, prefix: str = "params."
) -> dict[str, Any]:
    """The params as JSON-ready values (wire form), defaults filled; raises ValidationFailed."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ValidationFailed("params must be a JSON object", field="params")
    specs = {str(p.get("name")): p for p in declared if isinstance(p, Mapping) and p.get("name")}
    problems = [
        problem(prefix + name, "unknown_param", f"the action has no parameter '{name}'")
        for name in given
        if name not in specs
    ]
    cleaned: dict[str, Any] = {}
    for name, spec in specs.items():
        value = given.get(name)
        if value is None or value == "" or value == []:
            if spec.get("defaultValue") is not None and name not in given:
                value = spec["defaultValue"]
            elif spec.get("required"):
                problems.append(problem(prefix + name, "required", f"{name} is required"))
                continue
            else:
                cleaned[name] = None
                continue
        try:
            cleaned[name] = _clean_one(ctx, spec, value)
        except FieldValueError as error:
            problems.append(problem(prefix + name, error.code, error.message))
    if problems:
        raise ValidationFailed("invalid action parameters", fields=problems)
    return cleaned


def _clean_one(ctx: Context, spec: Mapping[str, Any], value: Any) -> Any:
    if spec.get("type") in MEDIA_TYPES:
        if not isinstance(value, dict | list):
            raise FieldValueError("invalid_type", "expected a file descriptor object")
        return value
    field = _param_field(spec)
    if field is None:
        return value
    field_type = get_type(field.type)
    stored = field_type.clean(field, value)
    if field_type.relational and field.reference:
        _check_reference(ctx, field.reference, stored)
    return field_type.to_wire(field, stored) if stored is not None else None


def _check_reference(ctx: Context, object_name: str, value: Any) -> None:
    """A lookup param must name a record the actor can read (users are not checked here)."""
    kernel: Kernel = ctx.kernel
    if object_name not in kernel.objects:
        return
    from apps.objectql.params import QuerySpec
    from apps.objectql.query import list_records

    wanted = [str(v) for v in (value if isinstance(value, list) else [value])]
    spec = QuerySpec(top=len(wanted), filters=[{"id": {"$in": wanted}}], select=["id"])
    found = {r["id"] for r in list_records(ctx, object_name, spec)["records"]}
    missing = [v for v in wanted if v not in found]
    if missing:
        raise FieldValueError("invalid_reference", f"no {object_name} with id {', '.join(missing)}")


# -- templates ------------------------------------------------------------------------

_TOKEN = re.compile(r"\{([^{}]+)\}")


def lookup(variables: Mapping[str, Any], path: str) -> Any:
    """`a.b.c` in nested dicts; None when any step is missing."""
    value: Any = variables
    for part in path.strip().split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def render(template: str, variables: Mapping[str, Any], *, url: bool = False) -> Any:
    """`{path}` tokens replaced by their values. A template that is one token keeps the
    value's type; in URLs substituted values are percent-encoded."""
    whole = _TOKEN.fullmatch(template.strip())
    if whole and not url:
        return lookup(variables, whole.group(1))

    def replace(match: re.Match[str]) -> str:
        value = lookup(variables, match.group(1))
        text = "" if value is None else str(value)
        return quote(text, safe="") if url else text

    return _TOKEN.sub(replace, template)


def render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    """Templates inside a JSON value (dict values, list items, strings) rendered."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, list):
        return [render_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, variables) for key, item in value.items()}
    return value
