"""Pydantic models of the ObjectStack protocol-17 artifact; unknown keys are kept, never dropped.

Every model accepts the compiled JSON as written (camelCase keys) and exposes
snake_case attributes (`external_id` for `externalId`). Keys a model does not
declare stay available in `model_extra` under their original spelling, so a
round trip with `model_dump(by_alias=True)` loses nothing. The typed parts are
the ones the Python runtime executes (objects, fields, permission sets,
positions, sharing rules, seed data); everything else is carried loosely as
JSON (`list[dict]`). Models are read-only by convention once loaded. The
access models live in `apps.artifact.access` and are re-exported here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

import pydantic
from pydantic import AfterValidator, BeforeValidator, PrivateAttr
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ValidationInfo

from apps.artifact.access import (
    AccessScope,
    FieldPermission,
    ObjectPermission,
    PermissionSet,
    Position,
    RlsPolicy,
    ShareRecipient,
    SharingRule,
)
from apps.artifact.base import ArtifactModel, Expression, JsonObject

__all__ = [
    "CHOICE_TYPES",
    "FIELD_TYPES",
    "NAME_PATTERN",
    "RELATION_TYPES",
    "SYSTEM_FIELD_NAMES",
    "TEXT_LIKE_TYPES",
    "USER_OBJECTS",
    "AccessScope",
    "Artifact",
    "ArtifactModel",
    "DataSeed",
    "Expression",
    "Field",
    "FieldPermission",
    "FieldType",
    "Manifest",
    "Object",
    "ObjectPermission",
    "PermissionSet",
    "Position",
    "RlsPolicy",
    "SelectOption",
    "ShareRecipient",
    "SharingModel",
    "SharingRule",
    "SummaryOperations",
]

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)
SYSTEM_FIELD_NAMES: tuple[str, ...] = (
    "id",
    "owner_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
)

FieldType = Literal[
    "text", "textarea", "email", "url", "phone", "password", "secret", "markdown",
    "html", "richtext", "number", "currency", "percent", "date", "datetime", "time",
    "boolean", "toggle", "select", "multiselect", "radio", "checkboxes", "lookup",
    "master_detail", "tree", "user", "image", "file", "avatar", "video", "audio",
    "formula", "summary", "autonumber", "composite", "repeater", "record", "location",
    "address", "code", "json", "color", "rating", "slider", "signature", "qrcode",
    "progress", "tags", "vector",
]  # fmt: skip
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)

RELATION_TYPES: tuple[str, ...] = ("lookup", "master_detail", "tree")
CHOICE_TYPES: tuple[str, ...] = ("select", "multiselect", "radio", "checkboxes")
TEXT_LIKE_TYPES: tuple[str, ...] = ("text", "email", "phone", "url", "autonumber")
USER_OBJECTS: tuple[str, ...] = ("sys_user", "user")

SharingModel = Literal[
    "private",
    "public_read",
    "public_read_write",
    "controlled_by_parent",
    "read",
    "read_write",
    "full",
]


def _check_name(value: str, kind: str) -> str:
    if _NAME_RE.fullmatch(value) is None:
        raise PydanticCustomError(
            "invalid_name",
            "{kind} name '{name}' must start with a lowercase letter and contain only "
            "lowercase letters, digits and underscores (at most 63 characters)",
            {"kind": kind, "name": value},
        )
    return value


def _object_name(value: str) -> str:
    return _check_name(value, "object")


def _field_name(value: str) -> str:
    _check_name(value, "field")
    if value == "id":
        raise PydanticCustomError(
            "reserved_field_name",
            "field name 'id' is reserved: the record id is managed by the runtime",
        )
    return value


def _check_system_field(name: str, field: Field) -> None:
    """A system field may be redeclared only with the shape the runtime gives it."""
    if name in ("created_at", "updated_at"):
        shape_ok, shape = field.type == "datetime", "a datetime field"
    else:
        shape_ok = field.type in ("lookup", "user") and field.reference in USER_OBJECTS + (None,)
        shape = "a lookup or user field referencing sys_user"
    if not shape_ok:
        raise PydanticCustomError(
            "reserved_field_name",
            "field name '{name}' is reserved for a system field; it can be declared only as {shape}",
            {"name": name, "shape": shape, "at": name},
        )


def _known_field_type(value: Any) -> Any:
    if isinstance(value, str) and value not in FIELD_TYPES:
        raise PydanticCustomError(
            "unknown_field_type", "unknown field type '{type}'", {"type": value}
        )
    return value


_NAME_SCHEMA = {"pattern": NAME_PATTERN}
ObjectName = Annotated[
    str, AfterValidator(_object_name), pydantic.Field(json_schema_extra=_NAME_SCHEMA)
]
FieldName = Annotated[
    str, AfterValidator(_field_name), pydantic.Field(json_schema_extra=_NAME_SCHEMA)
]


class SelectOption(ArtifactModel):
    """One choice of a select-like field; a plain string or number is its own value and label."""

    value: str
    label: str | None = None
    color: str | None = None
    default: bool = False

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, data: Any) -> Any:
        if isinstance(data, str | int | float) and not isinstance(data, bool):
            text = str(data)
            return {"value": text, "label": text}
        return data

    @pydantic.field_validator("value", mode="before")
    @classmethod
    def _value_to_str(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return value


class SummaryOperations(ArtifactModel):
    """Roll-up of a child object's rows: `function` over `field`, optionally filtered."""

    object: str
    field: str | None = None
    function: Literal["count", "sum", "min", "max", "avg"]
    filter: JsonObject | None = None


class Field(ArtifactModel):
    """One field of an object; `name` is filled from its key in `Object.fields`.

    `unique` may be written as a scope string (`"organization"`): it then reads
    as `unique=True` with `unique_scope` holding the scope.
    """

    name: str = ""
    label: str | None = None
    type: Annotated[FieldType, BeforeValidator(_known_field_type)]
    required: bool = False
    unique: bool = False
    unique_scope: str | None = None
    searchable: bool = False
    sortable: bool = True
    hidden: bool = False
    readonly: bool = False
    multiple: bool = False
    external_id: bool = False
    description: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    min: float | None = None
    max: float | None = None
    precision: int | None = None
    scale: int | None = None
    step: float | None = None
    options: list[SelectOption] | None = None
    default_value: Any = None
    reference: str | None = None
    delete_behavior: Literal["set_null", "cascade", "restrict"] | None = None
    expression: Expression | None = None
    summary_operations: SummaryOperations | None = None
    format: str | None = None
    dimensions: int | None = None
    accept: list[str] | None = None
    max_size: int | None = None
    language: str | None = None
    required_when: Expression | None = None
    readonly_when: Expression | None = None
    visible_when: Expression | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _unique_scope(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("unique"), str):
            return {**data, "unique": True, "uniqueScope": data["unique"]}
        return data

    @property
    def is_relation(self) -> bool:
        """True for lookup, master_detail and tree fields (a foreign key to `reference`)."""
        return self.type in RELATION_TYPES

    @property
    def option_values(self) -> list[str]:
        """The option values in declaration order (empty when there are no options)."""
        return [option.value for option in self.options or ()]


class Object(ArtifactModel):
    """A business object: its fields (ordered as written), sharing model and display field.

    `display_field` is the field that names a record: `displayField` or
    `nameField` if written, else `name` if the object has it, else the first
    text-like field, else None.
    """

    name: ObjectName
    label: str | None = None
    plural_label: str | None = None
    description: str | None = None
    icon: str | None = None
    datasource: str | None = None
    is_system: bool = False
    fields: dict[FieldName, Field] = {}
    sharing_model: SharingModel = "private"
    enable: JsonObject | None = None
    actions: list[JsonObject] | None = None
    validations: list[JsonObject] | None = None
    name_field: str | None = None
    display_field: str | None = pydantic.Field(default=None, validate_default=True)

    @pydantic.field_validator("fields", mode="after")
    @classmethod
    def _name_fields(cls, fields: dict[str, Field]) -> dict[str, Field]:
        for key, field in fields.items():
            if key in SYSTEM_FIELD_NAMES:
                _check_system_field(key, field)
            if field.name and field.name != key:
                raise PydanticCustomError(
                    "field_name_mismatch",
                    "field '{key}' declares a different name '{name}'",
                    {"key": key, "name": field.name, "at": key},
                )
            field.name = key
        return fields

    @pydantic.field_validator("name_field", mode="after")
    @classmethod
    def _name_field_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _existing_field(value, info, "name field")

    @pydantic.field_validator("display_field", mode="after")
    @classmethod
    def _choose_display_field(cls, value: str | None, info: ValidationInfo) -> str | None:
        fields: dict[str, Field] | None = info.data.get("fields")
        if value is not None or fields is None:
            return _existing_field(value, info, "display field")
        if info.data.get("name_field"):
            return info.data["name_field"]
        if "name" in fields:
            return "name"
        return next((key for key, f in fields.items() if f.type in TEXT_LIKE_TYPES), None)

    def field(self, name: str) -> Field:
        """The field called `name`; KeyError if the object has none."""
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"object '{self.name}' has no field '{name}'") from None


def _existing_field(value: str | None, info: ValidationInfo, what: str) -> str | None:
    fields = info.data.get("fields")
    if value is None or fields is None or value in fields or value in SYSTEM_FIELD_NAMES:
        return value
    raise PydanticCustomError(
        "unknown_field",
        "{what} '{name}' is not a field of this object",
        {"what": what, "name": value},
    )


class Manifest(ArtifactModel):
    """Identity of the package: id, namespace, version, engines (`{"protocol": "^17"}`)."""

    id: str
    namespace: str | None = None
    version: str | None = None
    name: str | None = None
    description: str | None = None
    type: str | None = None
    engines: JsonObject | None = None


class DataSeed(ArtifactModel):
    """Seed records of one object; lookups are written as the target's external id value."""

    object: str
    external_id: str | list[str] | None = None
    mode: str = "insert"
    env: list[str] | None = None
    records: list[JsonObject]


class Artifact(ArtifactModel):
    """A compiled protocol-17 artifact (`objectstack.json`)."""

    manifest: Manifest
    objects: list[Object] = []
    permissions: list[PermissionSet] = []
    positions: list[Position] = []
    sharing_rules: list[SharingRule] = []
    data: list[DataSeed] = []
    datasources: list[JsonObject] = []
    datasource_mapping: list[JsonObject] = []
    translations: list[JsonObject] = []
    i18n: JsonObject | None = None
    object_extensions: list[JsonObject] = []
    apps: list[JsonObject] = []
    views: list[JsonObject] = []
    pages: list[JsonObject] = []
    dashboards: list[JsonObject] = []
    reports: list[JsonObject] = []
    datasets: list[JsonObject] = []
    actions: list[JsonObject] = []
    flows: list[JsonObject] = []
    jobs: list[JsonObject] = []
    email_templates: list[JsonObject] = []
    books: list[JsonObject] = []
    capabilities: list[JsonObject] = []
    apis: list[JsonObject] = []
    webhooks: list[JsonObject] = []
    hooks: list[JsonObject] = []
    functions: JsonObject | list[JsonObject] | None = None
    mappings: list[JsonObject] = []
    analytics_cubes: list[JsonObject] = []
    connectors: list[JsonObject] = []
    agents: list[JsonObject] = []
    skills: list[JsonObject] = []
    rag_pipelines: list[JsonObject] = []
    docs: list[JsonObject] = []
    plugins: list[JsonObject] = []
    requires: list[str] = []
    runtime_module: str | None = None

    _objects_by_name: dict[str, Object] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for obj in self.objects:
            self._objects_by_name.setdefault(obj.name, obj)

    @property
    def object_names(self) -> list[str]:
        """Object names in artifact order."""
        return [obj.name for obj in self.objects]

    def object(self, name: str) -> Object:
        """The object called `name`; KeyError if the artifact has none."""
        try:
            return self._objects_by_name[name]
        except KeyError:
            raise KeyError(f"artifact has no object '{name}'") from None
