"""formula, summary (no column, read-only) and autonumber (formats, read-only)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type
from apps.fieldtypes.types.autonumber import format_number

from .conftest import make_field

MAY_1 = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("type_name", ["formula", "summary", "autonumber"])
@pytest.mark.parametrize("value", ["x", 1, None])
def test_clients_cannot_write_computed_values(type_name, value):
    with pytest.raises(FieldValueError) as error:
        get_type(type_name).clean(make_field(type_name), value)
    assert error.value.code == "readonly"


@pytest.mark.parametrize("type_name", ["formula", "summary"])
def test_formula_and_summary_store_nothing(type_name):
    field_type = get_type(type_name)
    field = make_field(type_name, expression="record.a * 2")
    assert field_type.storage == "none" and field_type.computed
    assert field_type.model_field(field) is None
    assert field_type.operators == frozenset() and not field_type.sortable
    assert field_type.default(field) is None
    with pytest.raises(FieldValueError) as error:
        field_type.filter_operand(field, "$eq", 1)
    assert error.value.code == "invalid_operator"


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("3.00"), "3"),
        (7, "7"),
        ("text", '"text"'),
        (None, "null"),
        (dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC), '"2024-05-01T09:30:00.000Z"'),
        (dt.date(2024, 5, 1), '"2024-05-01"'),
    ],
)
def test_computed_values_go_out_as_json(value, wire):
    assert json.dumps(get_type("formula").to_wire(make_field("formula"), value)) == wire


def test_summary_schema_follows_its_function():
    count = make_field(
        "summary", summary_operations={"object": "o", "field": "id", "function": "count"}
    )
    total = make_field(
        "summary", summary_operations={"object": "o", "field": "amount", "function": "sum"}
    )
    assert get_type("summary").openapi_schema(count) == {"type": "integer", "readOnly": True}
    assert get_type("summary").openapi_schema(total) == {"type": "number", "readOnly": True}


@pytest.mark.parametrize(
    ("template", "number", "expected"),
    [
        ("INV-{YYYY}-{0000}", 7, "INV-2024-0007"),
        ("{YY}{MM}{DD}-{000}", 42, "240501-042"),
        (None, 5, "0005"),
        (None, 12345, "12345"),  # overflow keeps every digit
        ("ACC-{000000}", 1, "ACC-000001"),
        ("CASE-{00000}", 123456, "CASE-123456"),
        ("{0}", 9, "9"),
        ("REF-", 3, "REF-3"),  # no number token: the number is appended
        ("{YYYY}/{MM}", 12, "2024/0512"),
        ("{X}-{00}", 4, "{X}-04"),  # unknown tokens stay literal
    ],
)
def test_autonumber_formats(template, number, expected):
    assert format_number(template, number, MAY_1) == expected
    field = make_field("autonumber", format=template)
    assert get_type("autonumber").format_number(field, number, MAY_1) == expected


def test_autonumber_column_and_operands():
    autonumber = get_type("autonumber")
    field = make_field("autonumber", name="number", format="INV-{0000}")
    column = autonumber.model_field(field)
    assert column.unique and column.db_column == "number"
    assert autonumber.computed and autonumber.default(field) is None
    assert autonumber.filter_operand(field, "$startsWith", "INV-") == "INV-"
    assert autonumber.filter_operand(field, "$eq", "INV-0001") == "INV-0001"
    assert autonumber.to_wire(field, "INV-0001") == "INV-0001"
    with pytest.raises(FieldValueError) as error:
        autonumber.filter_operand(field, "$eq", 1)
    assert error.value.code == "invalid_type"
