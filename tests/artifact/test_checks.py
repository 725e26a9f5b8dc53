"""Tests of apps.artifact.checks: cross-references that do not resolve are reported at their path."""

from __future__ import annotations

from typing import Any

import pytest

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact


def _issues(source: Any, **options: Any) -> list[str]:
    with pytest.raises(ArtifactInvalid) as error:
        load_artifact(source, **options)
    return [str(issue) for issue in error.value.issues]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"fields": {"parent": {"type": "tree", "reference": "other"}}},
            "objects[0].fields.parent.reference: a tree field must reference its own object 'thing', not 'other'",
        ),
        (
            {
                "fields": {
                    "total": {
                        "type": "summary",
                        "summaryOperations": {"object": "other", "function": "count"},
                    }
                }
            },
            "objects[0].fields.total.summaryOperations.object: object 'other' has no lookup or master_detail "
            "field to 'thing'",
        ),
        (
            {
                "fields": {
                    "up": {"type": "lookup", "reference": "thing"},
                    "total": {
                        "type": "summary",
                        "summaryOperations": {"object": "thing", "field": "x", "function": "sum"},
                    },
                }
            },
            "objects[0].fields.total.summaryOperations.field: object 'thing' has no field 'x'",
        ),
        (
            {"fields": {"link": {"type": "lookup"}}},
            "objects[0].fields.link.reference: a lookup field needs a `reference`",
        ),
        (
            {"sharingModel": "controlled_by_parent"},
            "objects[0].sharingModel: sharing model 'controlled_by_parent' needs a master_detail field to the parent",
        ),
        (
            {"fields": {"calc": {"type": "formula"}}},
            "objects[0].fields.calc: a formula field needs an `expression`",
        ),
        (
            {"fields": {"owner_id": {"type": "text"}}},
            "objects[0].fields.owner_id: field name 'owner_id' is reserved for a system field; it can be "
            "declared only as a lookup or user field referencing sys_user",
        ),
    ],
)
def test_cross_reference_problems(change: dict[str, Any], expected: str) -> None:
    document = {
        "manifest": {"id": "x"},
        "objects": [
            {"name": "thing", **change},
            {"name": "other", "fields": {"n": {"type": "text"}}},
        ],
    }
    assert _issues(document) == [expected]


def test_allowed_references_load() -> None:
    document = {
        "manifest": {"id": "x"},
        "objects": [
            {
                "name": "parent",
                "fields": {
                    "owner": {"type": "lookup", "reference": "sys_user"},
                    "who": {"type": "user"},
                    "up": {"type": "tree", "reference": "parent"},
                    "kind": {"type": "select"},
                    "total": {
                        "type": "summary",
                        "summaryOperations": {"object": "child", "field": "n", "function": "sum"},
                    },
                },
            },
            {
                "name": "child",
                "sharingModel": "controlled_by_parent",
                "fields": {
                    "p": {"type": "master_detail", "reference": "parent"},
                    "n": {"type": "number"},
                },
            },
        ],
        "data": [
            {
                "object": "child",
                "records": [{"id": "c1", "p": "x", "n": 1, "created_at": "2026-01-01"}],
            }
        ],
        "permissions": [
            {"name": "p", "objects": {"sys_user": {"allowRead": True}}, "fields": {"child.id": {}}}
        ],
    }
    assert load_artifact(document).artifact.object_names == ["parent", "child"]


def test_access_cross_references() -> None:
    document = {
        "manifest": {"id": "x"},
        "objects": [{"name": "thing"}],
        "positions": [{"name": "rep", "parent": "boss"}, {"name": "rep"}],
        "permissions": [
            {
                "name": "p",
                "fields": {"thing": {}},
                "rowLevelSecurity": [
                    {
                        "name": "r",
                        "object": "ghost",
                        "operation": "select",
                        "using": "a == 1",
                        "positions": ["mgr"],
                    }
                ],
            },
            {"name": "p"},
        ],
        "sharingRules": [
            {
                "name": "s",
                "object": "thing",
                "sharedWith": {"type": "position", "value": "mgr"},
                "condition": "true",
            }
        ],
    }
    assert _issues(document) == [
        "positions[0].parent: parent position 'boss' is not defined",
        "positions[1].name: duplicate position name 'rep'",
        "permissions[0].fields.thing: field rule key 'thing' must be written 'object.field'",
        "permissions[0].rowLevelSecurity[0].object: unknown object 'ghost'",
        "permissions[0].rowLevelSecurity[0].positions: position 'mgr' is not defined in `positions`",
        "permissions[1].name: duplicate permission set name 'p'",
        "sharingRules[0].sharedWith.value: position 'mgr' is not defined in `positions`",
    ]


def test_duplicate_object_names() -> None:
    document = {"manifest": {"id": "x"}, "objects": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}
    assert _issues(document) == [
        "objects[2].name: duplicate object name 'a' (first declared at objects[0])"
    ]
