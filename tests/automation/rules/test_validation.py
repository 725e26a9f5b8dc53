"""Validation rules of the artifact enforced on create and update, through HTTP.

Each rule type of rules_app.json refuses a bad write with 400 VALIDATION_FAILED naming
the field, the rule and its message, lets a good one through, and leaves no row behind.
"""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.automation.validation import object_validator, validation_problems
from apps.kernel.kernel import Kernel
from tests.automation.rules.conftest import APP, create

pytestmark = pytest.mark.django_db

URL = "/api/v1/data/rul_ticket"


def refused(response, *problems: tuple[str, str, str, str]) -> None:
    """400 VALIDATION_FAILED with exactly these (field, code, rule, message) problems."""
    assert response.status_code == 400, response.content
    expected = [{"field": f, "code": c, "message": m, "rule": r} for f, c, r, m in problems]
    assert response.json() == {
        "error": "; ".join(dict.fromkeys(m for *_, m in problems)),
        "code": "VALIDATION_FAILED",
        "fields": expected,
    }


def count(client) -> int:
    return client.get(URL).json()["total"]


def test_script_rule_refuses_and_passes(admin_client):
    before = count(admin_client)
    refused(
        admin_client.post(URL, {"subject": "a", "score": 11}, format="json"),
        ("score", "rule_violated", "score_range", "Score must be between 0 and 10."),
    )
    assert count(admin_client) == before
    record = create(admin_client, subject="a", score=10)
    assert record["score"] == 10
    refused(
        admin_client.patch(f"{URL}/{record['id']}", {"score": -1}, format="json"),
        ("score", "rule_violated", "score_range", "Score must be between 0 and 10."),
    )
    assert admin_client.get(f"{URL}/{record['id']}").json()["record"]["score"] == 10


def test_cross_field_rule_names_its_first_field(admin_client):
    refused(
        admin_client.post(
            URL,
            {"subject": "a", "start_date": "2026-05-02", "end_date": "2026-05-01"},
            format="json",
        ),
        (
            "end_date",
            "rule_violated",
            "dates_in_order",
            "End date must be on or after the start date.",
        ),
    )
    record = create(admin_client, subject="a", start_date="2026-05-02", end_date="2026-05-02")
    # the after-state merges the stored row: moving only the start date is checked too
    refused(
        admin_client.patch(f"{URL}/{record['id']}", {"start_date": "2026-05-03"}, format="json"),
        (
            "end_date",
            "rule_violated",
            "dates_in_order",
            "End date must be on or after the start date.",
        ),
    )


def test_state_machine_rule_checks_transitions_on_update(admin_client):
    record = create(admin_client, subject="a")
    assert record["status"] == "new"
    refused(
        admin_client.patch(f"{URL}/{record['id']}", {"status": "archived"}, format="json"),
        ("status", "invalid_transition", "status_flow", "Invalid status transition."),
    )
    response = admin_client.patch(f"{URL}/{record['id']}", {"status": "open"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["record"]["status"] == "open"
    # the same state again is not a transition
    response = admin_client.patch(f"{URL}/{record['id']}", {"status": "open"}, format="json")
    assert response.status_code == 200, response.content
    refused(
        admin_client.patch(f"{URL}/{record['id']}", {"status": "new"}, format="json"),
        ("status", "invalid_transition", "status_flow", "Invalid status transition."),
    )


def test_state_machine_accepts_any_declared_state_on_insert(admin_client):
    assert create(admin_client, subject="a", status="archived")["status"] == "archived"


def test_format_rules_regex_and_email(admin_client):
    refused(
        admin_client.post(
            URL, {"subject": "a", "code": "ab-1234", "contact_email": "ann@"}, format="json"
        ),
        ("code", "invalid_format", "code_format", "Code must look like AB-1234."),
        (
            "contact_email",
            "invalid_format",
            "contact_email_format",
            "Contact email must be a valid email address.",
        ),
    )
    record = create(admin_client, subject="a", code="AB-1234", contact_email="ann@example.com")
    assert (record["code"], record["contact_email"]) == ("AB-1234", "ann@example.com")


def test_json_schema_rule(admin_client):
    message = "Config must be {tier: basic|pro, seats?: >=1}."
    refused(
        admin_client.post(URL, {"subject": "a", "config": {"tier": "gold"}}, format="json"),
        (
            "config",
            "schema_mismatch",
            "config_shape",
            f"{message} (tier: 'gold' is not one of ['basic', 'pro'])",
        ),
    )
    refused(
        admin_client.post(
            URL, {"subject": "a", "config": {"tier": "pro", "seats": 0}}, format="json"
        ),
        (
            "config",
            "schema_mismatch",
            "config_shape",
            f"{message} (seats: 0 is less than the minimum of 1)",
        ),
    )
    record = create(admin_client, subject="a", config={"tier": "pro", "seats": 3})
    assert record["config"] == {"tier": "pro", "seats": 3}


def test_conditional_rule_applies_then_or_otherwise(admin_client):
    refused(
        admin_client.post(URL, {"subject": "a", "status": "closed"}, format="json"),
        (
            "close_reason",
            "rule_violated",
            "close_reason_present",
            "A closed ticket needs a close reason.",
        ),
    )
    refused(
        admin_client.post(URL, {"subject": "a", "close_reason": "done"}, format="json"),
        (
            "close_reason",
            "rule_violated",
            "close_reason_absent",
            "Only closed tickets have a close reason.",
        ),
    )
    record = create(admin_client, subject="a", status="closed", close_reason="done")
    assert (record["status"], record["close_reason"]) == ("closed", "done")


def test_every_failing_rule_is_listed_in_priority_order(admin_client):
    refused(
        admin_client.post(
            URL,
            {"subject": "a", "score": 99, "start_date": "2026-05-02", "end_date": "2026-05-01"},
            format="json",
        ),
        (
            "end_date",
            "rule_violated",
            "dates_in_order",
            "End date must be on or after the start date.",
        ),
        ("score", "rule_violated", "score_range", "Score must be between 0 and 10."),
    )


def test_batch_problems_carry_the_item_prefix(admin_client):
    before = count(admin_client)
    response = admin_client.post(
        f"{URL}/createMany",
        {"records": [{"subject": "ok"}, {"subject": "bad", "score": 12}]},
        format="json",
    )
    refused(
        response,
        ("records[1].score", "rule_violated", "score_range", "Score must be between 0 and 10."),
    )
    assert count(admin_client) == before  # all or nothing


def test_warning_rule_lets_the_write_pass_and_is_audited(admin_client):
    record = create(admin_client, subject="a", health="green")
    response = admin_client.patch(f"{URL}/{record['id']}", {"health": "red"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["record"]["health"] == "red"
    warning = AuditEvent.objects.get(action="validation.warning", record_id=record["id"])
    assert warning.object_name == "rul_ticket"
    assert warning.details == {
        "rule": "health_steps",
        "field": "health",
        "code": "invalid_transition",
        "message": "Health should change one step at a time.",
        "severity": "warning",
    }
    assert warning.actor == "admin@rul.test"


def test_inactive_rule_never_applies(admin_client):
    create(admin_client, subject="inactive rule would refuse everything")


def test_rules_that_cannot_compile_are_reported_and_fail_closed(admin_client, rul):
    raw = {
        **APP,
        "objects": [
            {
                **APP["objects"][0],
                "validations": [
                    {
                        "name": "bad_cel",
                        "type": "script",
                        "message": "m",
                        "condition": "record.score >",
                    },
                    {
                        "name": "bad_field",
                        "type": "format",
                        "field": "nope",
                        "message": "m",
                        "regex": "x",
                    },
                    {
                        "name": "bad_regex",
                        "type": "format",
                        "field": "code",
                        "message": "m",
                        "regex": "(",
                    },
                    {"name": "bad_type", "type": "telepathy", "message": "m"},
                    {
                        "name": "unknown_ref",
                        "type": "script",
                        "message": "m",
                        "condition": "record.ghost == 1",
                    },
                ],
            }
        ],
    }
    from apps.artifact.load import load_artifact

    kernel = Kernel("check", 0, 0, load_artifact(raw))
    problems = validation_problems(kernel)
    assert [p.split(":")[0] for p in problems] == [f"objects[0].validations[{i}]" for i in range(5)]
    assert "rule 'bad_cel' of rul_ticket condition does not compile" in problems[0]
    assert "format rule names unknown field 'nope'" in problems[1]
    assert "invalid regex '('" in problems[2]
    assert "unsupported validation rule type 'telepathy'" in problems[3]
    assert "condition reads unknown field(s) ghost" in problems[4]
    validator = object_validator(kernel.objects["rul_ticket"])
    from apps.objectql.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as refused_write:
        validator(None, kernel.objects["rul_ticket"], "insert", {"subject": "x"}, None)
    assert [p["code"] for p in refused_write.value.fields] == ["rule_invalid"] * 5


def test_the_published_kernel_carries_the_compiled_rules(admin_client, rul):
    from apps.kernel.cache import kernels

    response = admin_client.get(URL)
    assert response.status_code == 200
    kernel = next(k for k in kernels._kernels.values() if k.project_name == "rul")
    validators = kernel.objects["rul_ticket"].validators
    assert [type(v).__name__ for v in validators] == ["ObjectValidator"]
    assert [r.name for r in validators[0].rules][:2] == ["inactive_rule", "dates_in_order"]


def test_load_artifact_reports_rules_that_cannot_compile(tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    raw = {**APP, "manifest": {**APP["manifest"], "namespace": "rulbad"}}
    raw["objects"] = [
        {
            **APP["objects"][0],
            "validations": [
                {"name": "bad_cel", "type": "script", "message": "m", "condition": "record.score >"}
            ],
        }
    ]
    path = tmp_path / "objectstack.json"
    path.write_text(json.dumps(raw))
    out = StringIO()
    call_command("load_artifact", str(path), "--project", "rulbad", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if "bad_cel" in line]
    assert len(lines) == 1
    assert lines[0].startswith(
        "warning: objects[0].validations[0]: rule 'bad_cel' of rul_ticket condition does not compile"
    )
    assert lines[0].endswith("; it refuses every write it applies to")
