"""boolean and toggle: JSON booleans only; string flags in filters; default False."""

from __future__ import annotations

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type

from .conftest import make_field


@pytest.mark.parametrize("type_name", ["boolean", "toggle"])
@pytest.mark.parametrize("value", ["true", "false", 1, 0, "", [True]])
def test_only_true_and_false_are_accepted(type_name, value):
    with pytest.raises(FieldValueError) as error:
        get_type(type_name).clean(make_field(type_name), value)
    assert error.value.code == "invalid_type"


@pytest.mark.parametrize("type_name", ["boolean", "toggle"])
@pytest.mark.parametrize(
    ("operand", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("false", False),
        ("0", False),
    ],
)
def test_filter_operands_accept_query_string_flags(type_name, operand, expected):
    field_type, field = get_type(type_name), make_field(type_name)
    assert field_type.filter_operand(field, "$eq", operand) is expected
    assert field_type.filter_operand(field, "$in", [operand]) == [expected]


@pytest.mark.parametrize("operand", ["yes", "2", 2, "t"])
def test_bad_filter_operands(operand):
    with pytest.raises(FieldValueError) as error:
        get_type("boolean").filter_operand(make_field("boolean"), "$eq", operand)
    assert error.value.code == "invalid_type"


def test_order_operators_are_not_offered():
    with pytest.raises(FieldValueError) as error:
        get_type("boolean").filter_operand(make_field("boolean"), "$gt", True)
    assert error.value.code == "invalid_operator"


@pytest.mark.parametrize("type_name", ["boolean", "toggle"])
def test_default_is_false_unless_the_field_says(type_name):
    field_type = get_type(type_name)
    assert field_type.default(make_field(type_name)) is False
    assert field_type.default(make_field(type_name, default_value=True)) is True
    assert field_type.default(make_field(type_name, default_value=False)) is False
