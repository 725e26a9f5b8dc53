"""Tests of apps.artifact.legacy: pre-17 artifacts are refused key by key, or upgraded."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.legacy import upgrade_legacy
from apps.artifact.load import canonical_json, load_artifact

LEGACY_ENTERPRISE = "objectstack.2026-05-24.enterprise-crm.json"
LEGACY_CRM_V4 = "objectstack.2026-05-29.crm-v4.json"


def _issues(source: Any, **options: Any) -> list[str]:
    with pytest.raises(ArtifactInvalid) as error:
        load_artifact(source, **options)
    return [str(issue) for issue in error.value.issues]


def test_legacy_crm_v4_is_refused_key_by_key(shared_path) -> None:
    issues = _issues(shared_path("crm-legacy-compiled", LEGACY_CRM_V4))
    assert [issue.split(":")[0] for issue in issues] == [
        "portals",
        "themes",
        "workflows",
        "approvals",
        "roles",
        "policies",
        "sharingRules[0].sharedWith.type",
        "sharingRules[1].sharedWith.type",
        "sharingRules[1].ownedBy.type",
        "sharingRules[2].sharedWith.type",
    ]
    assert issues[4] == (
        "roles: `roles` (the role hierarchy) was retired in protocol 17; declare them as "
        "`positions` (same name, label, description, parent)"
    )
    assert "`flows` with `approval` nodes" in issues[3]
    assert "`state_machine` validation rules" in issues[2]
    assert "`rowLevelSecurity`" in issues[5]
    assert "`apps`" in issues[0] and "branding" in issues[1]


def test_legacy_enterprise_crm_is_refused(shared_path) -> None:
    issues = _issues(shared_path("crm-legacy-compiled", LEGACY_ENTERPRISE))
    assert [issue.split(":")[0] for issue in issues] == [
        "approvals",
        "roles",
        *(f"sharingRules[{i}].sharedWith.type" for i in range(5)),
    ]


def test_legacy_crm_v4_upgrades(shared_path, shared_raw) -> None:
    raw = shared_raw("crm-legacy-compiled", LEGACY_CRM_V4)
    loaded = load_artifact(shared_path("crm-legacy-compiled", LEGACY_CRM_V4), upgrade_legacy=True)
    artifact = loaded.artifact
    assert len(artifact.objects) == 5
    assert [p.name for p in artifact.positions] == [
        "sales_rep",
        "sales_manager",
        "finance_approver",
    ]
    assert artifact.sharing_rules[1].owned_by is not None
    assert artifact.sharing_rules[1].owned_by.type == "position"
    assert "roles" not in loaded.raw and "workflows" not in loaded.raw
    assert loaded.sha256 == hashlib.sha256(canonical_json(loaded.raw)).hexdigest()
    warnings = [str(w) for w in loaded.warnings]
    assert warnings[:2] == [
        "roles: converted 3 role(s) to `positions`",
        "workflows: dropped 2 entries: `workflows` (record-triggered workflow rules) were retired in "
        "protocol 17; use `state_machine` validation rules on the object for status transitions and "
        "record-change `flows` for automation",
    ]
    assert "sharingRules[1].ownedBy.type: recipient type 'role' became 'position'" in warnings
    assert upgrade_legacy(raw)[0]["positions"][0]["name"] == "sales_rep"
    assert "roles" in raw  # upgrade_legacy copies, never modifies


def test_legacy_enterprise_upgrade_reports_dangling_positions(shared_path) -> None:
    issues = _issues(shared_path("crm-legacy-compiled", LEGACY_ENTERPRISE), upgrade_legacy=True)
    assert issues == [
        "sharingRules[3].sharedWith.value: position 'na_sales_team' is not defined in `positions`",
        "sharingRules[4].sharedWith.value: position 'eu_sales_team' is not defined in `positions`",
    ]
