"""Order changes into operations, each labelled metadata-only, additive, rewrite or destructive."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from apps.artifact.models import Artifact
from apps.fieldtypes.registry import get_type
from apps.schema.diff import Change, diff

RISKS = ("metadata-only", "additive", "rewrite", "destructive")
ORDER = {
    "create_object": 0,
    "add_field": 1,
    "create_shares": 1,
    "alter_field": 2,
    "drop_field": 3,
    "drop_object": 4,
    "drop_shares": 4,
    "metadata": 5,
    "seed_data": 6,
}


@dataclass(frozen=True)
class Operation:
    kind: str
    object: str
    field: str
    risk: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def risk_of(change: Change, old: Artifact | None, new: Artifact) -> str:
    if change.kind in ("create_object", "add_field", "create_shares", "seed_data"):
        return "additive"
    if change.kind in ("drop_object", "drop_field", "drop_shares"):
        return "destructive"
    if change.kind == "alter_field":
        before = old.object(change.object).fields[change.field]  # type: ignore[union-attr]
        after = new.object(change.object).fields[change.field]
        kind = get_type(after.type).change_kind(before, after)
        if before.multiple != after.multiple or before.reference != after.reference:
            return "destructive"
        if before.type == after.type and (after.scale or 0) < (before.scale or 0):
            return "destructive"
        return {"metadata": "metadata-only", "rewrite": "rewrite"}.get(kind, "destructive")
    return "metadata-only"


def describe(change: Change) -> str:
    target = ".".join(part for part in (change.object, change.field) if part)
    words = change.kind.replace("_", " ")
    return (
        f"{words} {target}: {change.detail}".strip().rstrip(":")
        if target
        else f"{words}: {change.detail}"
    )


def make_plan(old: Artifact | None, new: Artifact) -> list[Operation]:
    changes = sorted(diff(old, new), key=lambda c: ORDER[c.kind])
    return [
        Operation(c.kind, c.object, c.field, risk_of(c, old, new), describe(c)) for c in changes
    ]


def is_destructive(plan: list[Operation] | list[dict[str, Any]]) -> bool:
    return any((op["risk"] if isinstance(op, dict) else op.risk) == "destructive" for op in plan)


def worst_risk(plan: list[Operation]) -> str:
    return max((op.risk for op in plan), key=RISKS.index, default="metadata-only")


def format_plan(plan: list[Operation]) -> str:
    if not plan:
        return "  (no changes)"
    width = max(len(r) for r in RISKS)
    return "\n".join(f"  [{op.risk:<{width}}] {op.description}" for op in plan)
