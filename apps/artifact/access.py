"""Access models of the artifact: permission sets, object and field permissions, RLS policies, positions, sharing rules."""

from __future__ import annotations

from typing import Literal

import pydantic
from pydantic_core import PydanticCustomError

from apps.artifact.base import ArtifactModel, Expression

AccessScope = Literal["own", "own_and_reports", "unit", "unit_and_below", "org"]


class ObjectPermission(ArtifactModel):
    """CRUD, lifecycle and view/modify-all bits of one permission set on one object."""

    allow_create: bool = False
    allow_read: bool = False
    allow_edit: bool = False
    allow_delete: bool = False
    allow_transfer: bool = False
    allow_restore: bool = False
    allow_purge: bool = False
    view_all_records: bool = False
    modify_all_records: bool = False
    read_scope: AccessScope | None = None
    write_scope: AccessScope | None = None


class FieldPermission(ArtifactModel):
    """Field-level security of one `object.field` (spec default: readable, not editable)."""

    readable: bool = True
    editable: bool = False


class RlsPolicy(ArtifactModel):
    """A row-level security policy: `using` filters reads, `check` guards writes."""

    name: str
    label: str | None = None
    description: str | None = None
    object: str
    operation: Literal["select", "insert", "update", "delete", "all"]
    using: Expression | None = None
    check: Expression | None = None
    positions: list[str] | None = None
    enabled: bool = True
    priority: int = 0
    tags: list[str] | None = None

    @pydantic.model_validator(mode="after")
    def _using_or_check(self) -> RlsPolicy:
        if self.using is None and self.check is None:
            raise PydanticCustomError(
                "rls_without_rule", "a row-level security policy needs `using` or `check`"
            )
        return self


class PermissionSet(ArtifactModel):
    """Named grants: object permissions, field rules keyed `object.field`, RLS policies."""

    name: str
    label: str | None = None
    is_default: bool = False
    objects: dict[str, ObjectPermission] = {}
    fields: dict[str, FieldPermission] = {}
    system_permissions: list[str] | None = None
    row_level_security: list[RlsPolicy] | None = None


class Position(ArtifactModel):
    """A position (formerly role) people hold; `parent` names the position above it."""

    name: str
    label: str | None = None
    description: str | None = None
    parent: str | None = None


class ShareRecipient(ArtifactModel):
    """Who receives (or, for owner rules, whose records are) shared access."""

    type: Literal[
        "user", "group", "team", "position", "business_unit", "unit_and_subordinates", "guest"
    ]
    value: str


class SharingRule(ArtifactModel):
    """Widens access: a `criteria` rule shares records matching `condition`; an
    `owner` rule shares records owned by `owned_by`; both with `shared_with`."""

    name: str
    label: str | None = None
    description: str | None = None
    object: str
    active: bool = True
    access_level: Literal["read", "edit", "full"] = "read"
    shared_with: ShareRecipient
    type: Literal["criteria", "owner"] = "criteria"
    condition: Expression | None = None
    owned_by: ShareRecipient | None = None

    @pydantic.model_validator(mode="after")
    def _rule_has_its_source(self) -> SharingRule:
        if self.type == "criteria" and self.condition is None:
            raise PydanticCustomError(
                "criteria_without_condition", "a criteria sharing rule needs a `condition`"
            )
        if self.type == "owner" and self.owned_by is None:
            raise PydanticCustomError(
                "owner_without_owned_by", "an owner sharing rule needs `ownedBy`"
            )
        return self
