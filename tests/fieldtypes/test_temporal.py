"""date, datetime, time: ISO-8601 in, Python values stored, ISO strings (UTC, Z) out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.fieldtypes.base import NOW, TODAY, FieldValueError, resolve_default
from apps.fieldtypes.registry import get_type

from .conftest import make_field

UTC = dt.UTC


def clean(type_name, value, **attrs):
    return get_type(type_name).clean(make_field(type_name, **attrs), value)


def wire(type_name, value):
    field_type, field = get_type(type_name), make_field(type_name)
    return field_type.to_wire(field, field_type.clean(field, value))


def error_code(type_name, value) -> str:
    with pytest.raises(FieldValueError) as error:
        clean(type_name, value)
    return error.value.code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", dt.date(2024, 5, 1)),
        (" 2024-02-29 ", dt.date(2024, 2, 29)),
        ("2024-05-01T22:00:00.000Z", dt.date(2024, 5, 1)),  # JS toISOString: date as written
        (dt.date(2024, 5, 1), dt.date(2024, 5, 1)),
        ("", None),
    ],
)
def test_date_accepts(value, expected):
    assert clean("date", value) == expected


@pytest.mark.parametrize(
    "value",
    ["2024-13-01", "2023-02-29", "01/05/2024", "2024-5-1", "20240501", "2024-W01-1",
     "2024-05-01T25:00:00Z", "today", 20240501, True, dt.datetime(2024, 5, 1, tzinfo=UTC)],
)  # fmt: skip
def test_date_refuses(value):
    assert error_code("date", value) == "invalid_date"


def test_date_wire():
    assert wire("date", "2024-05-01") == "2024-05-01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01T09:30:00z", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01T09:30:00", "2024-05-01T09:30:00.000Z"),  # naive is UTC
        ("2024-05-01 09:30", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01T09:30:00.123456+02:00", "2024-05-01T07:30:00.123Z"),
        ("2024-05-01T09:30:00.5-05:30", "2024-05-01T15:00:00.500Z"),
        ("2024-05-01", "2024-05-01T00:00:00.000Z"),
        (dt.datetime(2024, 5, 1, 9, 30, tzinfo=ZoneInfo("Europe/Amsterdam")), "2024-05-01T07:30:00.000Z"),
        (dt.datetime(2024, 5, 1, 9, 30), "2024-05-01T09:30:00.000Z"),
    ],
)  # fmt: skip
def test_datetime_round_trip(value, expected):
    assert wire("datetime", value) == expected


@pytest.mark.parametrize(
    "stored, expected",
    [
        # as Django writes an aware UTC datetime into SQLite (lists read it as text)
        ("2024-05-01 09:30:00", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01 09:30:00.123456", "2024-05-01T09:30:00.123Z"),
        ("2024-05-01 09:30:00.999999", "2024-05-01T09:30:00.999Z"),  # cut, as isoformat
        # anything else is parsed: an offset is honoured, no offset is UTC
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01 11:30:00+02:00", "2024-05-01T09:30:00.000Z"),
        ("2024-05-01 09:30:00.5", "2024-05-01T09:30:00.500Z"),
        ("2024-05-01 09:30", "2024-05-01T09:30:00.000Z"),
    ],
)
def test_datetime_wire_from_the_stored_text_equals_the_wire_from_the_value(stored, expected):
    field_type, field = get_type("datetime"), make_field("datetime")
    assert field_type.to_wire(field, stored) == expected
    parsed = dt.datetime.fromisoformat(stored)
    value = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    assert field_type.to_wire(field, value) == expected


def test_datetime_is_stored_aware_in_utc():
    stored = clean("datetime", "2024-05-01T09:30:00+02:00")
    assert stored == dt.datetime(2024, 5, 1, 7, 30, tzinfo=UTC) and stored.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    ["2024-05-01T25:00:00Z", "2024-05-01T09:30:00+25:00", "yesterday", "1714550000",
     1714550000, 1714550000.5, True, dt.date(2024, 5, 1), "2024-05-01T09:30:00 UTC"],
)  # fmt: skip
def test_datetime_refuses(value):
    assert error_code("datetime", value) == "invalid_datetime"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09:30", "09:30:00"),
        ("23:59:59", "23:59:59"),
        ("09:30:15.5", "09:30:15"),
        (dt.time(8, 5), "08:05:00"),
    ],
)
def test_time_round_trip(value, expected):
    assert wire("time", value) == expected


@pytest.mark.parametrize(
    "value", ["9:30", "24:00", "09:60", "09:30+02:00", "0930", 930, dt.time(9, 30, tzinfo=UTC)]
)
def test_time_refuses(value):
    assert error_code("time", value) == "invalid_time"


def test_filter_operands_parse_iso_strings():
    datetime_type, field = get_type("datetime"), make_field("datetime")
    assert datetime_type.filter_operand(field, "$gte", "2024-01-01") == dt.datetime(
        2024, 1, 1, tzinfo=UTC
    )
    assert datetime_type.filter_operand(field, "$between", ["2024-01-01", "2024-02-01T00:00Z"]) == [
        dt.datetime(2024, 1, 1, tzinfo=UTC),
        dt.datetime(2024, 2, 1, tzinfo=UTC),
    ]
    date_type = get_type("date")
    assert date_type.filter_operand(make_field("date"), "$in", ["2024-01-01"]) == [
        dt.date(2024, 1, 1)
    ]
    for bad in ("", "soon"):
        with pytest.raises(FieldValueError) as error:
            date_type.filter_operand(make_field("date"), "$lt", bad)
        assert error.value.code == "invalid_date"
    with pytest.raises(FieldValueError) as error:
        date_type.filter_operand(make_field("date"), "$contains", "2024")
    assert error.value.code == "invalid_operator"


def test_defaults_and_dynamic_tokens():
    assert get_type("date").default(make_field("date", default_value="2024-01-31")) == dt.date(
        2024, 1, 31
    )
    assert get_type("date").default(make_field("date", default_value="today")) is TODAY
    assert get_type("datetime").default(make_field("datetime", default_value="now")) is NOW
    assert get_type("time").default(make_field("time")) is None
    now = dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert resolve_default(TODAY, user_id=7, now=now) == dt.date(2024, 5, 1)
    assert resolve_default(NOW, user_id=7, now=now) == now
    assert resolve_default("plain", user_id=7, now=now) == "plain"
