"""Tests of apps.artifact.load: real artifacts load, every issue is reported at its JSON path."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import time
from typing import Any

import pytest

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.issues import Issue
from apps.artifact.load import LoadedArtifact, canonical_json, load_artifact


def _issues(source: Any, **options: Any) -> list[str]:
    with pytest.raises(ArtifactInvalid) as error:
        load_artifact(source, **options)
    return [str(issue) for issue in error.value.issues]


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


# --- the real protocol-17 artifacts --------------------------------------------


@pytest.mark.parametrize(
    ("folder", "object_names"),
    [
        ("blank-starter-v17", ["blank_note"]),
        (
            "crm-minimal-v17",
            [
                "crm_account",
                "crm_activity",
                "crm_contact",
                "crm_lead",
                "crm_opportunity",
                "crm_opportunity_line_item",
            ],
        ),
        ("todo-v17", ["todo_task"]),
    ],
)
def test_small_v17_artifacts_load(shared_path, folder: str, object_names: list[str]) -> None:
    loaded = load_artifact(shared_path(folder))
    assert isinstance(loaded, LoadedArtifact)
    assert loaded.artifact.object_names == object_names
    assert loaded.artifact.manifest.engines == {"protocol": "^17"}


def test_showcase_loads_fast_with_24_objects(shared_path) -> None:
    path = shared_path("showcase-v17")
    load_artifact(path)  # warm imports and pydantic's schema
    started = time.perf_counter()
    loaded = load_artifact(path)
    elapsed = time.perf_counter() - started
    assert len(loaded.artifact.objects) == 24
    assert loaded.artifact.manifest.id == "com.example.showcase"
    assert (
        len(loaded.artifact.flows),
        len(loaded.artifact.actions),
        len(loaded.artifact.data),
    ) == (29, 70, 19)
    assert elapsed < 1.0, f"load_artifact took {elapsed:.3f}s"


def test_crm_minimal_shapes(shared_path) -> None:
    artifact = load_artifact(shared_path("crm-minimal-v17")).artifact
    line_item = artifact.object("crm_opportunity_line_item")
    assert line_item.sharing_model == "controlled_by_parent"
    total = artifact.object("crm_opportunity").field("line_total")
    assert total.summary_operations is not None
    assert (total.summary_operations.object, total.summary_operations.field) == (
        "crm_opportunity_line_item",
        "amount",
    )
    assert artifact.object("crm_lead").field("status").default_value == "new"
    assert [p.name for p in artifact.positions] == [
        "sales_rep",
        "sales_manager",
        "finance_approver",
    ]
    opportunities = artifact.data[2]
    assert (opportunities.object, opportunities.external_id, opportunities.mode) == (
        "crm_opportunity",
        "name",
        "upsert",
    )
    # Seed lookups are the target's external id value; dates may be CEL expressions.
    assert opportunities.records[0]["account"] == "Acme Corp"
    assert opportunities.records[0]["close_date"] == {"dialect": "cel", "source": "daysFromNow(30)"}


# --- every issue, with its path ------------------------------------------------

BAD_ARTIFACT: dict[str, Any] = {
    "objects": [
        {"name": "crm_account", "fields": {"name": {"type": "text"}}},
        {
            "name": "crm_contact",
            "fields": {
                "account": {"type": "lookup", "reference": "crm_acount"},
                "owner": {"type": "user"},
                "status": {
                    "type": "select",
                    "options": ["a", "b", {"value": "a"}],
                    "defaultValue": "c",
                },
            },
        },
        {"name": "crm_deal", "fields": {"amount": {"type": "moneyy"}, "id": {"type": "text"}}},
    ],
    "data": [
        {
            "object": "crm_account",
            "externalId": "name",
            "records": [{"name": "Acme", "nmae": "x", "id": "a1"}],
        },
        {"object": "crm_nothing", "records": []},
        {"object": "sys_business_unit", "records": [{"id": "bu_1", "anything": 1}]},
    ],
    "permissions": [
        {
            "name": "sales",
            "objects": {"crm_account": {"allowRead": True}, "crm_ghost": {"allowRead": True}},
            "fields": {
                "crm_account.nope": {"readable": False},
                "crm_deal.amount": {"editable": False},
            },
        }
    ],
}


def test_bad_artifact_reports_every_issue() -> None:
    assert _issues(BAD_ARTIFACT) == [
        "manifest: is required",
        "objects[2].fields.amount.type: unknown field type 'moneyy'",
        "objects[2].fields.id: field name 'id' is reserved: the record id is managed by the runtime",
        "objects[1].fields.account.reference: lookup field references unknown object 'crm_acount'",
        "objects[1].fields.status.options[2].value: duplicate option value 'a'",
        "objects[1].fields.status.defaultValue: default value 'c' is not one of the options ('a', 'b', 'a')",
        "data[0].records[0].nmae: object 'crm_account' has no field 'nmae'",
        "data[1].object: seed data for unknown object 'crm_nothing'",
        "permissions[0].objects.crm_ghost: unknown object 'crm_ghost'",
        "permissions[0].fields[\"crm_account.nope\"]: object 'crm_account' has no field 'nope'",
    ]


def test_artifact_invalid_lists_one_issue_per_line() -> None:
    with pytest.raises(ArtifactInvalid) as error:
        load_artifact(BAD_ARTIFACT)
    lines = str(error.value).splitlines()
    assert len(lines) == len(error.value.issues) == 10
    assert lines[1] == "objects[2].fields.amount.type: unknown field type 'moneyy'"
    assert error.value.issues[1] == Issue(
        "objects[2].fields.amount.type", "unknown field type 'moneyy'"
    )


def test_type_errors_are_worded_plainly() -> None:
    document = {
        "manifest": {"id": 7},
        "objects": [
            {
                "name": "a",
                "fields": {"x": {"type": "text", "maxLength": "ten", "required": "maybe"}},
            }
        ],
        "data": [{"object": "a", "externalId": 5, "records": {}}],
    }
    assert _issues(document) == [
        "manifest.id: must be a string, got a number (7)",
        "objects[0].fields.x.required: must be true or false, got a string ('maybe')",
        "objects[0].fields.x.maxLength: must be a whole number, got a string ('ten')",
        "data[0].externalId: must be a string, got a number (5), or must be a list, got a number (5)",
        "data[0].records: must be a list, got an object",
    ]


# --- reading -------------------------------------------------------------------


def test_invalid_json_text() -> None:
    text = '{\n  "manifest": {"id": "x"},\n  "objects": [,]\n}'
    assert _issues(text) == ["$: invalid JSON at line 3 column 15: Expecting value"]
    assert _issues(text.encode()) == ["$: invalid JSON at line 3 column 15: Expecting value"]


def test_top_level_must_be_an_object() -> None:
    assert _issues("[1, 2]") == [
        "$: an artifact must be a JSON object at the top level, got a list"
    ]


def test_duplicate_json_keys_are_refused() -> None:
    text = '{"manifest": {"id": "x"}, "objects": [{"name": "a", "fields": {"x": {"type": "text"}, "x": {"type": "number"}}}]}'
    assert _issues(text) == [
        "objects[0].fields.x: duplicate key 'x': a later value would silently replace an earlier one"
    ]


def test_missing_file(tmp_path) -> None:
    missing = tmp_path / "nope.json"
    assert _issues(missing) == [
        f"$: cannot read artifact file '{missing}': No such file or directory"
    ]


def test_path_str_and_bytes_agree(shared_path) -> None:
    path = shared_path("crm-minimal-v17")
    from_path = load_artifact(path)
    assert load_artifact(str(path)).sha256 == from_path.sha256
    assert load_artifact(path.read_bytes()).sha256 == from_path.sha256
    assert load_artifact(path.read_text(encoding="utf-8")).sha256 == from_path.sha256


# --- content hash --------------------------------------------------------------


def test_sha256_is_stable_across_key_order_and_whitespace(shared_raw) -> None:
    raw = shared_raw("crm-minimal-v17")
    loaded = load_artifact(raw)
    assert loaded.sha256 == hashlib.sha256(canonical_json(loaded.raw)).hexdigest()
    assert load_artifact(_reverse_keys(raw)).sha256 == loaded.sha256
    assert load_artifact(json.dumps(raw, indent=4)).sha256 == loaded.sha256
    changed = copy.deepcopy(raw)
    changed["manifest"]["version"] = "4.0.1"
    assert load_artifact(changed).sha256 != loaded.sha256


def test_canonical_json_form() -> None:
    assert canonical_json({"b": [1, {"d": "é", "c": None}], "a": True}) == (
        '{"a":true,"b":[1,{"c":null,"d":"é"}]}'.encode()
    )


def test_loaded_artifact_is_frozen_and_input_untouched(shared_raw) -> None:
    raw = shared_raw("blank-starter-v17")
    before = copy.deepcopy(raw)
    loaded = load_artifact(raw)
    assert raw == before and loaded.raw == raw and loaded.raw is not raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.sha256 = "x"  # type: ignore[misc]
