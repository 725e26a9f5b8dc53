"""Number family: JSON numbers only, bounds, decimals, integers, slider steps, operands."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type

from .conftest import make_field

NUMBER_TYPES = ["number", "currency", "percent", "rating", "slider", "progress"]


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def error_code(type_name, value, **attrs) -> str:
    with pytest.raises(FieldValueError) as error:
        clean(type_name, value, **attrs)
    return error.value.code


@pytest.mark.parametrize("type_name", NUMBER_TYPES)
@pytest.mark.parametrize("value", ["12", "", True, False, [1], {"v": 1}])
def test_only_json_numbers_are_accepted(type_name, value):
    assert error_code(type_name, value) == "invalid_type"


@pytest.mark.parametrize("type_name", NUMBER_TYPES)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN")])
def test_nan_and_infinity_are_refused(type_name, value):
    assert error_code(type_name, value) == "invalid_number"


@pytest.mark.parametrize(
    ("type_name", "attrs", "low_bad", "low_ok", "high_ok", "high_bad"),
    [
        ("number", {"min": 0, "max": 1000}, -0.5, 0, 1000, 1000.5),
        ("currency", {"min": 0}, -0.01, 0, 10**15, None),
        ("percent", {"min": 0, "max": 100}, -1, 0, 100, 101),
        ("rating", {}, 0, 1, 5, 6),
        ("rating", {"max": 10}, 0, 1, 10, 11),
        ("slider", {}, -1, 0, 100, 101),
        ("progress", {}, -0.1, 0, 100, 100.1),
        ("progress", {"min": 10, "max": 20}, 9, 10, 20, 21),
    ],
)
def test_bounds(type_name, attrs, low_bad, low_ok, high_ok, high_bad):
    assert error_code(type_name, low_bad, **attrs) == "too_small"
    assert clean(type_name, low_ok, **attrs) == low_ok
    assert clean(type_name, high_ok, **attrs) == high_ok
    if high_bad is not None:
        assert error_code(type_name, high_bad, **attrs) == "too_large"


def test_plain_number_and_percent_have_no_implicit_bounds():
    assert clean("number", -1e12) == -1e12
    assert clean("percent", 250) == 250.0


def test_decimals_are_quantised_half_up_to_scale():
    assert clean("currency", 0.125) == Decimal("0.13")
    assert clean("currency", 2) == Decimal("2.00")
    assert clean("number", 1.005, scale=2) == Decimal("1.01")  # decimal text, not binary float
    assert clean("number", 7.5, scale=0) == Decimal("8")
    assert clean("currency", Decimal("3.14159"), scale=4) == Decimal("3.1416")


@pytest.mark.parametrize(
    ("attrs", "value"),
    [
        ({"precision": 5, "scale": 2}, 1000),  # 3 integer digits allowed
        ({"precision": 5, "scale": 2}, 999.999),  # rounds up to 1000.00
        ({}, 10**16),  # 18 digits, 2 decimals
        ({}, 1e40),
    ],
)
def test_decimal_out_of_range(attrs, value):
    assert error_code("currency", value, **attrs) == "out_of_range"


def test_decimal_within_precision():
    assert clean("currency", 999.99, precision=5, scale=2) == Decimal("999.99")
    assert clean("currency", -999.99, precision=5, scale=2) == Decimal("-999.99")


def test_float_columns_store_floats_and_integers_store_ints():
    assert clean("number", 3) == 3.0 and isinstance(clean("number", 3), float)
    assert clean("rating", 4.0) == 4 and isinstance(clean("rating", 4.0), int)
    assert error_code("rating", 3.5) == "not_integer"


@pytest.mark.parametrize(
    ("attrs", "value", "ok"),
    [
        ({"min": 0, "max": 100, "step": 5}, 35, True),
        ({"min": 0, "max": 100, "step": 5}, 33, False),
        ({"min": 1, "max": 10, "step": 3}, 7, True),
        ({"min": 1, "max": 10, "step": 3}, 6, False),
        ({"min": 0, "max": 1, "step": 0.1}, 0.3, True),
        ({"min": 0, "max": 1, "step": 0.1}, 0.35, False),
        ({}, 42, True),  # default step 1
        ({}, 42.5, False),
    ],
)
def test_slider_steps(attrs, value, ok):
    if ok:
        assert clean("slider", value, **attrs) == value
    else:
        assert error_code("slider", value, **attrs) == "invalid_step"


@pytest.mark.parametrize(
    ("stored", "wire"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("20.00"), "20"),
        (Decimal("-0.10"), "-0.1"),
        (2.5, "2.5"),
    ],
)
def test_to_wire(stored, wire):
    assert json.dumps(get_type("currency").to_wire(make_field("currency"), stored)) == wire


def test_filter_operands_accept_numeric_strings_without_bounds():
    number, field = get_type("number"), make_field("number", min=0, max=10)
    assert number.filter_operand(field, "$gt", "12.5") == 12.5
    assert number.filter_operand(field, "$lt", -3) == -3.0
    assert number.filter_operand(field, "$in", ["1", 2]) == [1.0, 2.0]
    assert number.filter_operand(field, "$between", [1, "5"]) == [1.0, 5.0]
    currency = get_type("currency")
    assert currency.filter_operand(make_field("currency"), "$gte", "10.555") == Decimal("10.555")
    assert currency.filter_operand(make_field("currency"), "$eq", 0.1) == Decimal("0.1")
    rating = get_type("rating")
    assert rating.filter_operand(make_field("rating"), "$eq", "4") == 4


@pytest.mark.parametrize(
    ("op", "value", "code"),
    [
        ("$gt", "abc", "invalid_number"),
        ("$gt", "NaN", "invalid_number"),
        ("$eq", True, "invalid_type"),
        ("$contains", "1", "invalid_operator"),
    ],
)
def test_bad_filter_operands(op, value, code):
    with pytest.raises(FieldValueError) as error:
        get_type("number").filter_operand(make_field("number"), op, value)
    assert error.value.code == code


def test_defaults():
    assert get_type("percent").default(make_field("percent", default_value=50)) == 50.0
    assert get_type("currency").default(make_field("currency", default_value=0)) == Decimal("0.00")
    assert get_type("number").default(make_field("number")) is None
    with pytest.raises(FieldValueError):
        get_type("rating").default(make_field("rating", default_value=9))
