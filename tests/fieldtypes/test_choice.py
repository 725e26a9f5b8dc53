"""select, radio, multiselect, checkboxes, tags: option checks, lists, list operands."""

from __future__ import annotations

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type

from .conftest import make_field

PRIORITY = [
    {"value": "low", "label": "Low", "default": True},
    {"value": "medium", "label": "Medium"},
    {"value": "high", "label": "High"},
]
COLORS = ["red", "green", "blue"]


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def error(type_name, value, **attrs) -> FieldValueError:
    with pytest.raises(FieldValueError) as raised:
        clean(type_name, value, **attrs)
    return raised.value


@pytest.mark.parametrize("type_name", ["select", "radio"])
def test_single_choice(type_name):
    assert clean(type_name, "medium", options=PRIORITY) == "medium"
    assert clean(type_name, "", options=PRIORITY) is None
    problem = error(type_name, "urgent", options=PRIORITY)
    assert problem.code == "invalid_choice"
    assert problem.message == "f: 'urgent' is not one of: low, medium, high"
    assert error(type_name, 1, options=PRIORITY).code == "invalid_type"
    assert error(type_name, ["low"], options=PRIORITY).code == "invalid_type"
    assert error(type_name, "Low", options=PRIORITY).code == "invalid_choice"


def test_select_without_options_takes_any_string():
    assert clean("select", "anything") == "anything"


@pytest.mark.parametrize(
    ("type_name", "attrs"),
    [("multiselect", {}), ("checkboxes", {}), ("select", {"multiple": True})],
)
def test_list_choices_are_distinct_and_in_option_order(type_name, attrs):
    assert clean(type_name, ["blue", "red", "blue"], options=COLORS, **attrs) == ["red", "blue"]
    assert clean(type_name, [], options=COLORS, **attrs) == []
    assert error(type_name, ["red", "pink"], options=COLORS, **attrs).code == "invalid_choice"
    assert error(type_name, "red", options=COLORS, **attrs).code == "invalid_type"
    assert error(type_name, [1], options=COLORS, **attrs).code == "invalid_type"


def test_radio_ignores_multiple():
    assert clean("radio", "red", options=COLORS, multiple=True) == "red"
    assert get_type("radio").storage_for(make_field("radio", multiple=True)) == "text"


def test_choice_defaults():
    select = get_type("select")
    assert select.default(make_field("select", options=PRIORITY)) == "low"
    assert select.default(make_field("select", options=PRIORITY, default_value="high")) == "high"
    assert select.default(make_field("select", options=COLORS)) is None
    with pytest.raises(FieldValueError):
        select.default(make_field("select", options=PRIORITY, default_value="urgent"))
    multi = [{"value": "a", "default": True}, {"value": "b"}, {"value": "c", "default": True}]
    assert get_type("multiselect").default(make_field("multiselect", options=multi)) == ["a", "c"]
    assert get_type("checkboxes").default(make_field("checkboxes", options=COLORS)) is None
    assert get_type("checkboxes").default(
        make_field("checkboxes", options=COLORS, default_value=["blue", "red"])
    ) == ["red", "blue"]


def test_single_choice_operands_need_not_be_current_options():
    select, field = get_type("select"), make_field("select", options=PRIORITY)
    assert select.filter_operand(field, "$eq", "retired_value") == "retired_value"
    assert select.filter_operand(field, "$in", ["low", "high"]) == ["low", "high"]
    for op, value, code in [("$eq", 3, "invalid_type"), ("$contains", "l", "invalid_operator")]:
        with pytest.raises(FieldValueError) as raised:
            select.filter_operand(field, op, value)
        assert raised.value.code == code


@pytest.mark.parametrize(
    ("type_name", "attrs"),
    [("multiselect", {"options": COLORS}), ("select", {"options": COLORS, "multiple": True}),
     ("checkboxes", {"options": COLORS}), ("tags", {})],
)  # fmt: skip
def test_list_operands(type_name, attrs):
    field_type, field = get_type(type_name), make_field(type_name, **attrs)
    assert field_type.filter_operand(field, "$contains", "red") == "red"
    assert field_type.filter_operand(field, "$eq", "red") == "red"  # scalar: has the element
    assert field_type.filter_operand(field, "$in", ["red", "blue"]) == ["red", "blue"]
    assert field_type.filter_operand(field, "$in", "red") == ["red"]
    assert field_type.filter_operand(field, "$nin", ["red"]) == ["red"]
    assert field_type.filter_operand(field, "$null", "true") is True
    assert field_type.filter_operand(field, "$exists", False) is False
    for op, value, code in [
        ("$gt", "red", "invalid_operator"),
        ("$ne", "red", "invalid_operator"),
        ("$contains", 5, "invalid_type"),
        ("$contains", None, "invalid_operand"),
        ("$null", "perhaps", "invalid_operand"),
    ]:
        with pytest.raises(FieldValueError) as raised:
            field_type.filter_operand(field, op, value)
        assert raised.value.code == code, (op, value)


def test_list_eq_operand_is_normalised_like_a_stored_value():
    multiselect, field = get_type("multiselect"), make_field("multiselect", options=COLORS)
    assert multiselect.filter_operand(field, "$eq", ["blue", "red"]) == ["red", "blue"]
    tags = get_type("tags")
    assert tags.filter_operand(make_field("tags"), "$eq", ["b", " a", "b"]) == ["b", "a"]


def test_tags():
    assert clean("tags", ["a", " b ", "a"]) == ["a", "b"]
    assert clean("tags", []) == []
    assert error("tags", ["ok", "  "]).code == "invalid_tag"
    assert error("tags", ["ok", 1]).code == "invalid_type"
    assert error("tags", "a,b").code == "invalid_type"
    assert get_type("tags").default(make_field("tags", default_value=["x"])) == ["x"]
