"""composite, repeater, record, location, address, json, vector: JSON shapes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.fieldtypes.base import PRESENCE_OPS, FieldValueError
from apps.fieldtypes.registry import get_type

from .conftest import make_field

STRUCTURED = ["composite", "repeater", "record", "location", "address", "json", "vector"]


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def error_code(type_name, value, **attrs) -> str:
    with pytest.raises(FieldValueError) as error:
        clean(type_name, value, **attrs)
    return error.value.code


@pytest.mark.parametrize("type_name", STRUCTURED)
@pytest.mark.parametrize(
    "value",
    [{"a": float("nan")}, {"a": Decimal("1")}, {"a": dt.date(2024, 1, 1)}, {1: "a"}, {"a": {1, 2}}],
)
def test_values_must_be_plain_json(type_name, value):
    assert error_code(type_name, value) == "invalid_json"


@pytest.mark.parametrize(
    ("type_name", "value", "code"),
    [
        ("composite", [1], "invalid_type"),
        ("composite", "x", "invalid_type"),
        ("record", [["k", "v"]], "invalid_type"),
        ("repeater", {"qty": 1}, "invalid_type"),
        ("repeater", [{"qty": 1}, 2], "invalid_row"),
        ("address", "1 Main St", "invalid_type"),
        ("address", {"street": "1 Main St", "planet": "Mars"}, "invalid_address"),
        ("address", {"postalCode": 12345}, "invalid_address"),
        ("location", [52.3, 4.9], "invalid_type"),
        ("location", {"lat": 52.3}, "invalid_location"),
        ("location", {"lat": 52.3, "lng": 4.9, "name": "Amsterdam"}, "invalid_location"),
        ("location", {"lat": 52.3, "longitude": 4.9}, "invalid_location"),
        ("location", {"lat": "52.3", "lng": 4.9}, "invalid_type"),
        ("location", {"lat": True, "lng": 4.9}, "invalid_type"),
        ("location", {"lat": 90.5, "lng": 0}, "out_of_range"),
        ("location", {"lat": 0, "lng": -180.5}, "out_of_range"),
        ("location", {"lat": 0, "lng": 0, "accuracy": -1}, "out_of_range"),
        ("vector", {"0": 1.0}, "invalid_type"),
        ("vector", [1, "2", 3], "invalid_type"),
        ("vector", [1, True, 3], "invalid_type"),
    ],
)
def test_shape_errors(type_name, value, code):
    assert error_code(type_name, value, dimensions=3 if type_name == "vector" else None) == code


def test_location_spellings_are_kept_as_written():
    assert clean("location", {"latitude": -33.9, "longitude": 151.2, "altitude": 5}) == {
        "latitude": -33.9,
        "longitude": 151.2,
        "altitude": 5.0,
    }
    assert clean("location", {"lat": 90, "lng": 180, "accuracy": 3}) == {
        "lat": 90.0,
        "lng": 180.0,
        "accuracy": 3.0,
    }


def test_address_drops_nulls_and_keeps_known_keys():
    full = {
        "street": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postalCode": "62701",
        "country": "United States",
        "countryCode": "US",
        "formatted": "1 Main St, Springfield, IL 62701",
    }
    assert clean("address", full) == full
    assert clean("address", {"street": "1 Main St", "city": None}) == {"street": "1 Main St"}
    assert clean("address", {}) == {}
    assert clean("address", {"postal_code": "1000", "country_code": "BE"}) == {
        "postalCode": "1000", "countryCode": "BE"}


def test_vector_dimensions():
    assert clean("vector", [0, 1, 2], dimensions=3) == [0.0, 1.0, 2.0]
    assert error_code("vector", [0, 1, 2, 3], dimensions=3) == "invalid_dimensions"
    assert clean("vector", [0.5] * 7) == [0.5] * 7  # no dimensions: any length
    assert clean("vector", []) == []


def test_json_takes_any_json_value():
    for value in ("x", 5, 1.5, True, [1, [2]], {"a": None}):
        assert clean("json", value) == value


def test_operators():
    for name in STRUCTURED:
        expected = PRESENCE_OPS | {"$eq"} if name == "json" else PRESENCE_OPS
        assert get_type(name).operators == expected
        assert get_type(name).sortable is False
    json_type, field = get_type("json"), make_field("json")
    assert json_type.filter_operand(field, "$eq", {"a": [1]}) == {"a": [1]}
    assert json_type.filter_operand(field, "$exists", "1") is True
    with pytest.raises(FieldValueError) as error:
        json_type.filter_operand(field, "$eq", {"a": float("inf")})
    assert error.value.code == "invalid_json"
    with pytest.raises(FieldValueError) as error:
        get_type("composite").filter_operand(make_field("composite"), "$eq", {})
    assert error.value.code == "invalid_operator"


def test_defaults():
    assert get_type("json").default(make_field("json", default_value={"a": 1})) == {"a": 1}
    assert get_type("repeater").default(make_field("repeater")) is None
