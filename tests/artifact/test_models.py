"""Tests of apps.artifact.models: shapes accepted, names filled, extras kept, errors worded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apps.artifact.models import (
    FIELD_TYPES,
    Artifact,
    DataSeed,
    Expression,
    Field,
    FieldPermission,
    Object,
    ObjectPermission,
    PermissionSet,
    RlsPolicy,
    SelectOption,
    SharingRule,
)


def _errors(error: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[object, ...], str]]:
    return [(tuple(e["loc"]), e["msg"]) for e in error.value.errors()]


# --- expressions and options -------------------------------------------------


def test_expression_accepts_a_plain_string_as_cel() -> None:
    assert Expression.model_validate("record.amount > 0") == Expression(
        dialect="cel", source="record.amount > 0"
    )
    assert Expression.model_validate({"dialect": "cron", "source": "0 1 * * *"}).dialect == "cron"


def test_select_option_accepts_strings_and_numbers() -> None:
    assert SelectOption.model_validate("new") == SelectOption(value="new", label="new")
    assert SelectOption.model_validate(3).value == "3"
    option = SelectOption.model_validate({"value": 2.5, "label": "Two and a half", "default": True})
    assert (option.value, option.label, option.default, option.color) == (
        "2.5",
        "Two and a half",
        True,
        None,
    )


# --- fields --------------------------------------------------------------------


def test_field_types_are_the_49_of_protocol_17() -> None:
    assert len(FIELD_TYPES) == 49
    assert len(set(FIELD_TYPES)) == 49
    assert FIELD_TYPES[0] == "text" and FIELD_TYPES[-1] == "vector"
    assert {"master_detail", "summary", "autonumber", "qrcode", "signature"} <= set(FIELD_TYPES)


def test_unknown_field_type_has_a_plain_message() -> None:
    with pytest.raises(ValidationError) as error:
        Field.model_validate({"type": "moneyy"})
    assert _errors(error) == [(("type",), "unknown field type 'moneyy'")]


def test_field_maps_camel_case_and_keeps_unknown_keys() -> None:
    field = Field.model_validate(
        {
            "type": "text",
            "maxLength": 200,
            "externalId": True,
            "inlineHelpText": "Shown under the input",
            "deleteBehavior": "cascade",
            "type_hint_for_tests": 1,
        }
    )
    assert field.max_length == 200
    assert field.external_id is True
    assert field.delete_behavior == "cascade"
    assert field.model_extra == {
        "inlineHelpText": "Shown under the input",
        "type_hint_for_tests": 1,
    }
    dumped = field.model_dump(by_alias=True, exclude_unset=True)
    assert dumped["inlineHelpText"] == "Shown under the input"
    assert dumped["maxLength"] == 200


def test_field_defaults() -> None:
    field = Field.model_validate({"type": "number"})
    assert (field.name, field.required, field.unique, field.sortable, field.hidden) == (
        "",
        False,
        False,
        True,
        False,
    )
    assert field.options is None and field.default_value is None


def test_unique_scope_string_reads_as_unique() -> None:
    field = Field.model_validate({"type": "autonumber", "unique": "organization"})
    assert field.unique is True
    assert field.unique_scope == "organization"


def test_field_expressions_and_summary() -> None:
    field = Field.model_validate(
        {
            "type": "summary",
            "summaryOperations": {"object": "line", "field": "amount", "function": "sum"},
            "visibleWhen": "record.status == 'paid'",
        }
    )
    assert field.summary_operations is not None
    assert (field.summary_operations.object, field.summary_operations.function) == ("line", "sum")
    assert field.visible_when == Expression(source="record.status == 'paid'")
    with pytest.raises(ValidationError) as error:
        Field.model_validate(
            {"type": "summary", "summaryOperations": {"object": "x", "function": "median"}}
        )
    assert _errors(error)[0][0] == ("summaryOperations", "function")


# --- objects -------------------------------------------------------------------


def test_object_fills_field_names_in_order() -> None:
    obj = Object.model_validate(
        {
            "name": "crm_deal",
            "pluralLabel": "Deals",
            "fields": {"title": {"type": "text"}, "amount": {"type": "currency"}},
        }
    )
    assert list(obj.fields) == ["title", "amount"]
    assert [f.name for f in obj.fields.values()] == ["title", "amount"]
    assert obj.plural_label == "Deals"
    assert obj.sharing_model == "private"
    assert obj.field("amount").type == "currency"
    with pytest.raises(KeyError, match="object 'crm_deal' has no field 'nope'"):
        obj.field("nope")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"fields": {"code": {"type": "text"}, "name": {"type": "text"}}}, "name"),
        ({"fields": {"n": {"type": "number"}, "email": {"type": "email"}}}, "email"),
        ({"fields": {"n": {"type": "number"}}}, None),
        (
            {
                "fields": {"subject": {"type": "text"}, "name": {"type": "text"}},
                "nameField": "subject",
            },
            "subject",
        ),
        (
            {
                "fields": {"code": {"type": "text"}, "name": {"type": "text"}},
                "displayField": "code",
            },
            "code",
        ),
    ],
)
def test_display_field(data: dict[str, object], expected: str | None) -> None:
    assert Object.model_validate({"name": "thing", **data}).display_field == expected


def test_display_field_must_exist() -> None:
    with pytest.raises(ValidationError) as error:
        Object.model_validate({"name": "thing", "fields": {}, "displayField": "title"})
    assert _errors(error) == [
        (("displayField",), "display field 'title' is not a field of this object")
    ]


def test_object_and_field_names_are_checked() -> None:
    with pytest.raises(ValidationError) as error:
        Object.model_validate(
            {"name": "Deal", "fields": {"Amount": {"type": "number"}, "ok_1": {"type": "text"}}}
        )
    assert [loc for loc, _ in _errors(error)] == [("name",), ("fields", "Amount", "[key]")]
    assert "object name 'Deal' must start with a lowercase letter" in _errors(error)[0][1]
    long_name = "a" * 64
    with pytest.raises(ValidationError):
        Object.model_validate({"name": long_name})
    assert Object.model_validate({"name": "a" * 63}).name == "a" * 63


def test_reserved_field_names() -> None:
    with pytest.raises(ValidationError) as error:
        Object.model_validate({"name": "thing", "fields": {"id": {"type": "text"}}})
    assert _errors(error) == [
        (
            ("fields", "id", "[key]"),
            "field name 'id' is reserved: the record id is managed by the runtime",
        )
    ]
    with pytest.raises(ValidationError) as error:
        Object.model_validate({"name": "thing", "fields": {"owner_id": {"type": "text"}}})
    assert _errors(error)[0][1] == (
        "field name 'owner_id' is reserved for a system field; it can be declared only as "
        "a lookup or user field referencing sys_user"
    )
    # The shapes showcase-v17 uses: redeclared system fields with the system shape.
    obj = Object.model_validate(
        {
            "name": "thing",
            "fields": {
                "owner_id": {"type": "lookup", "reference": "sys_user"},
                "created_at": {"type": "datetime"},
            },
        }
    )
    assert list(obj.fields) == ["owner_id", "created_at"]


def test_sharing_models() -> None:
    for model in (
        "private",
        "public_read",
        "public_read_write",
        "controlled_by_parent",
        "read",
        "read_write",
        "full",
    ):
        assert (
            Object.model_validate({"name": "thing", "sharingModel": model}).sharing_model == model
        )
    with pytest.raises(ValidationError):
        Object.model_validate({"name": "thing", "sharingModel": "open"})


# --- access --------------------------------------------------------------------


def test_permission_set_shapes() -> None:
    permission_set = PermissionSet.model_validate(
        {
            "name": "contributor",
            "isDefault": True,
            "objects": {"task": {"allowRead": True, "readScope": "org", "allowPurge": True}},
            "fields": {"task.budget": {"readable": True, "editable": False}},
            "rowLevelSecurity": [
                {
                    "name": "own",
                    "object": "task",
                    "operation": "select",
                    "using": "owner == current_user.email",
                }
            ],
            "systemPermissions": ["setup.access"],
        }
    )
    assert permission_set.is_default is True
    assert permission_set.objects["task"] == ObjectPermission(
        allow_read=True, read_scope="org", allow_purge=True
    )
    assert permission_set.fields["task.budget"] == FieldPermission(readable=True, editable=False)
    policy = permission_set.row_level_security[0]  # type: ignore[index]
    assert policy.using == Expression(dialect="cel", source="owner == current_user.email")
    assert policy.check is None and policy.enabled is True
    assert permission_set.system_permissions == ["setup.access"]


def test_rls_policy_needs_using_or_check() -> None:
    with pytest.raises(ValidationError) as error:
        RlsPolicy.model_validate({"name": "r", "object": "task", "operation": "update"})
    assert _errors(error) == [((), "a row-level security policy needs `using` or `check`")]


def test_sharing_rule_shapes() -> None:
    rule = SharingRule.model_validate(
        {
            "name": "share_new",
            "object": "inquiry",
            "accessLevel": "read",
            "sharedWith": {"type": "unit_and_subordinates", "value": "bu_field_ops"},
            "type": "criteria",
            "condition": {"dialect": "cel", "source": "record.status == 'new'"},
        }
    )
    assert rule.shared_with.type == "unit_and_subordinates"
    assert rule.condition == Expression(source="record.status == 'new'")
    assert rule.active is True
    with pytest.raises(ValidationError) as error:
        SharingRule.model_validate(
            {"name": "s", "object": "x", "sharedWith": {"type": "user", "value": "u"}}
        )
    assert _errors(error) == [((), "a criteria sharing rule needs a `condition`")]


def test_data_seed_external_id_may_be_composite() -> None:
    seed = DataSeed.model_validate(
        {"object": "membership", "externalId": ["team", "project"], "mode": "ignore", "records": []}
    )
    assert seed.external_id == ["team", "project"]
    assert DataSeed.model_validate({"object": "x", "records": [{"a": 1}]}).mode == "insert"


# --- artifact ------------------------------------------------------------------


def test_artifact_helpers_and_extras() -> None:
    artifact = Artifact.model_validate(
        {
            "manifest": {"id": "com.example", "engines": {"protocol": "^17"}},
            "objects": [{"name": "b_thing"}, {"name": "a_thing"}],
            "runtimeModule": "./x.mjs",
            "somethingNew": {"kept": True},
        }
    )
    assert artifact.object_names == ["b_thing", "a_thing"]
    assert artifact.object("a_thing").name == "a_thing"
    with pytest.raises(KeyError, match="artifact has no object 'c_thing'"):
        artifact.object("c_thing")
    assert artifact.runtime_module == "./x.mjs"
    assert artifact.model_extra == {"somethingNew": {"kept": True}}
    assert artifact.hooks == [] and artifact.functions is None


def test_showcase_holds_all_49_types(shared_raw) -> None:
    artifact = Artifact.model_validate(shared_raw("showcase-v17"))
    every_type = {f.type for obj in artifact.objects for f in obj.fields.values()}
    assert every_type == set(FIELD_TYPES)
    # The field zoo has 51 fields of 48 types: `summary` lives on other objects.
    zoo = artifact.object("showcase_field_zoo")
    assert len(zoo.fields) == 51
    assert set(FIELD_TYPES) - {f.type for f in zoo.fields.values()} == {"summary"}
    assert zoo.field("f_autonumber").unique_scope == "organization"
    assert zoo.field("f_vector").dimensions == 1536
    assert zoo.field("f_tree").reference == "showcase_field_zoo"
    assert zoo.field("f_select").options[0] == SelectOption(  # type: ignore[index]
        value="low", label="Low", color="#94A3B8", default=True
    )
    assert zoo.field("f_currency").model_extra == {
        "currencyConfig": {"precision": 2, "currencyMode": "fixed", "defaultCurrency": "USD"}
    }


def test_showcase_access_shapes(shared_raw) -> None:
    artifact = Artifact.model_validate(shared_raw("showcase-v17"))
    assert len(artifact.permissions) == 9
    assert len(artifact.positions) == 10
    contributor = artifact.permissions[0]
    assert contributor.name == "showcase_contributor"
    assert [
        (p.name, p.operation, p.using, p.check) for p in contributor.row_level_security or ()
    ] == [
        ("task_own_rows", "select", Expression(source="assignee == current_user.email"), None),
        ("invoice_own_rows", "select", Expression(source="owner == current_user.email"), None),
        (
            "invoice_owner_immutable",
            "update",
            None,
            Expression(source="owner == current_user.email"),
        ),
    ]
    assert [(r.name, r.shared_with.type, r.shared_with.value) for r in artifact.sharing_rules] == [
        ("share_new_inquiries_with_field_ops", "unit_and_subordinates", "bu_field_ops"),
        ("share_key_account_qualified_contacts_with_managers", "position", "manager"),
    ]
    assert artifact.positions[0].model_extra == {"delegatable": False}
