"""Every type: a valid value's round trip, its column and its declared operators."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import models

from apps.fieldtypes.base import (
    EQUALITY_OPS,
    LIST_OPS,
    NO_OPS,
    ORDER_OPS,
    PRESENCE_OPS,
    TEXT_OPS,
    Relation,
)
from apps.fieldtypes.registry import all_types, get_type

from .conftest import make_field

OPTIONS = ["low", "medium", "high"]
PNG = {"name": "a.png", "key": "files/a.png", "size": 10, "mimeType": "image/png"}

# (type, field attributes, client value, wire value after clean -> to_wire)
ROUND_TRIPS: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("text", {}, "hello", "hello"),
    ("textarea", {}, "line 1\nline 2", "line 1\nline 2"),
    ("email", {}, " ann@example.com ", "ann@example.com"),
    ("url", {}, "https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("phone", {}, "+1 (555) 010-9999", "+1 (555) 010-9999"),
    ("password", {}, "correct horse", None),
    ("secret", {}, "sk_live_12345678", "••••••5678"),
    ("markdown", {}, "# Title\n*x*", "# Title\n*x*"),
    ("html", {}, "<p>hi <b>there</b></p>", "<p>hi <b>there</b></p>"),
    ("richtext", {}, "<b>x</b><script>alert(1)</script>", "<b>x</b>"),
    ("code", {"language": "json"}, '{"a": 1}', '{"a": 1}'),
    ("color", {}, "#7C3AED", "#7C3AED"),
    ("signature", {}, "data:image/png;base64,iVBO", "data:image/png;base64,iVBO"),
    ("qrcode", {}, "ABC-123", "ABC-123"),
    ("number", {}, 12.5, 12.5),
    ("number", {"scale": 2}, 12.345, 12.35),
    ("currency", {"scale": 2}, 19.999, 20),
    ("currency", {}, 10.5, 10.5),
    ("percent", {}, 50, 50.0),
    ("rating", {"max": 5}, 4, 4),
    ("slider", {"min": 0, "max": 100, "step": 5}, 35, 35.0),
    ("progress", {}, 42.5, 42.5),
    ("date", {}, "2024-05-01", "2024-05-01"),
    ("datetime", {}, "2024-05-01T09:30:00+02:00", "2024-05-01T07:30:00.000Z"),
    ("time", {}, "09:30", "09:30:00"),
    ("boolean", {}, True, True),
    ("toggle", {}, False, False),
    ("select", {"options": OPTIONS}, "low", "low"),
    ("radio", {"options": ["yes", "no"]}, "no", "no"),
    ("multiselect", {"options": ["red", "green", "blue"]}, ["blue", "red", "red"], ["red", "blue"]),
    ("checkboxes", {"options": ["email", "sms", "push"]}, ["sms", "email"], ["email", "sms"]),
    ("tags", {}, [" urgent ", "vip", "urgent"], ["urgent", "vip"]),
    ("lookup", {"reference": "account"}, "acc_1", "acc_1"),
    ("master_detail", {"reference": "project"}, "prj_1", "prj_1"),
    ("tree", {"reference": "category"}, "cat_1", "cat_1"),
    ("user", {"reference": "sys_user"}, "42", 42),
    ("image", {}, PNG, PNG),
    ("file", {}, {"name": "a.pdf", "url": "https://cdn.example.com/a.pdf"}, {"name": "a.pdf", "url": "https://cdn.example.com/a.pdf"}),
    ("avatar", {}, {"name": "me.jpg", "key": "k1", "mimeType": "image/jpeg"}, {"name": "me.jpg", "key": "k1", "mimeType": "image/jpeg"}),
    ("video", {}, {"name": "v.mp4", "key": "k2", "mimeType": "video/mp4"}, {"name": "v.mp4", "key": "k2", "mimeType": "video/mp4"}),
    ("audio", {}, {"name": "a.mp3", "key": "k3", "mimeType": "audio/mpeg"}, {"name": "a.mp3", "key": "k3", "mimeType": "audio/mpeg"}),
    ("composite", {}, {"a": {"b": [1, 2]}}, {"a": {"b": [1, 2]}}),
    ("repeater", {}, [{"qty": 1}, {"qty": 2}], [{"qty": 1}, {"qty": 2}]),
    ("record", {}, {"en": "Hello", "fr": "Bonjour"}, {"en": "Hello", "fr": "Bonjour"}),
    ("location", {}, {"lat": 52.37, "lng": 4.9}, {"lat": 52.37, "lng": 4.9}),
    ("address", {}, {"street": "1 Main St", "city": "Springfield", "state": None}, {"street": "1 Main St", "city": "Springfield"}),
    ("json", {}, [1, "a", {"b": None}], [1, "a", {"b": None}]),
    ("vector", {"dimensions": 3}, [1, 0.5, -2], [1.0, 0.5, -2.0]),
]  # fmt: skip

COMPUTED = {"formula", "summary", "autonumber"}


def test_round_trips_cover_every_stored_type():
    assert {case[0] for case in ROUND_TRIPS} | COMPUTED == set(all_types())


@pytest.mark.parametrize(("type_name", "attrs", "value", "wire"), ROUND_TRIPS)
def test_round_trip(type_name, attrs, value, wire):
    field_type = get_type(type_name)
    field = make_field(type_name, **attrs)
    stored = field_type.clean(field, value)
    assert json.dumps(field_type.to_wire(field, stored)) == json.dumps(wire)


@pytest.mark.parametrize("type_name", sorted(all_types()))
def test_none_means_no_value(type_name):
    field_type = get_type(type_name)
    field = make_field(type_name, reference="x")
    if field_type.computed:
        return
    assert field_type.clean(field, None) is None
    assert field_type.to_wire(field, None) is None


def test_wire_conversion_flag_matches_the_stored_python_type():
    assert get_type("number").needs_wire_conversion  # Decimal when scale is set
    assert get_type("currency").needs_wire_conversion
    assert get_type("secret").needs_wire_conversion
    for name in ("date", "datetime", "time"):
        assert get_type(name).needs_wire_conversion
    for name in ("text", "percent", "rating", "boolean", "select", "tags", "json", "lookup"):
        assert not get_type(name).needs_wire_conversion
    assert isinstance(get_type("currency").clean(make_field("currency"), 3), Decimal)


TEXT_COLUMN = (models.TextField, {})
JSON_COLUMN = (models.JSONField, {})
COLUMNS: list[tuple[str, dict[str, Any], type[models.Field], dict[str, Any]]] = [
    *[(name, {}, models.TextField, {}) for name in (
        "text", "textarea", "email", "url", "phone", "password", "secret", "markdown", "html",
        "richtext", "code", "color", "signature", "qrcode", "select", "radio",
    )],
    ("autonumber", {}, models.TextField, {"unique": True}),
    ("number", {}, models.FloatField, {}),
    ("number", {"scale": 2}, models.DecimalField, {"max_digits": 18, "decimal_places": 2}),
    ("number", {"precision": 10, "scale": 0}, models.DecimalField, {"max_digits": 10, "decimal_places": 0}),
    ("currency", {}, models.DecimalField, {"max_digits": 18, "decimal_places": 2}),
    ("currency", {"precision": 12, "scale": 4}, models.DecimalField, {"max_digits": 12, "decimal_places": 4}),
    ("percent", {}, models.FloatField, {}),
    ("rating", {}, models.IntegerField, {}),
    ("slider", {}, models.FloatField, {}),
    ("progress", {}, models.FloatField, {}),
    ("date", {}, models.DateField, {}),
    ("datetime", {}, models.DateTimeField, {}),
    ("time", {}, models.TimeField, {}),
    ("boolean", {}, models.BooleanField, {}),
    ("toggle", {}, models.BooleanField, {}),
    ("select", {"multiple": True}, models.JSONField, {}),
    ("multiselect", {}, models.JSONField, {}),
    ("checkboxes", {}, models.JSONField, {}),
    ("tags", {}, models.JSONField, {}),
    ("lookup", {"multiple": True}, models.JSONField, {}),
    ("user", {"multiple": True}, models.JSONField, {}),
    *[(name, {}, models.JSONField, {}) for name in (
        "image", "file", "avatar", "video", "audio", "composite", "repeater", "record",
        "location", "address", "json", "vector",
    )],
    ("file", {"multiple": True}, models.JSONField, {}),
]  # fmt: skip


@pytest.mark.parametrize(("type_name", "attrs", "django_class", "expected"), COLUMNS)
def test_model_field(type_name, attrs, django_class, expected):
    column = get_type(type_name).model_field(make_field(type_name, name="col_x", **attrs))
    assert type(column) is django_class
    assert column.db_column == "col_x"
    assert column.null is True
    for attribute, value in expected.items():
        assert getattr(column, attribute) == value


def test_model_field_honours_unique():
    assert get_type("text").model_field(make_field("text", unique=True)).unique is True
    assert get_type("text").model_field(make_field("text")).unique is False
    assert get_type("email").model_field(make_field("email", unique="organization")).unique is False


@pytest.mark.parametrize("type_name", ["formula", "summary"])
def test_computed_types_have_no_column(type_name):
    assert get_type(type_name).model_field(make_field(type_name)) is None


@pytest.mark.parametrize(
    ("type_name", "on_delete"),
    [("lookup", models.SET_NULL), ("master_detail", models.CASCADE), ("tree", models.SET_NULL)],
)
def test_relation_model_field_is_a_foreign_key(type_name, on_delete):
    field_type = get_type(type_name)
    field = make_field(type_name, name="account", reference="account")
    relation = Relation(to="k1.Account", on_delete=field_type.on_delete_for(field))
    column = field_type.model_field(field, relation)
    assert isinstance(column, models.ForeignKey)
    assert column.db_column == "account"
    assert column.remote_field.model == "k1.Account"
    assert column.remote_field.on_delete is on_delete
    assert column.remote_field.related_name == "+"
    assert column.null and column.blank and column.db_index


def test_user_model_field_points_at_the_auth_user_without_constraint():
    column = get_type("user").model_field(make_field("user", name="owner"))
    assert isinstance(column, models.ForeignKey)
    assert column.remote_field.model == "auth.User"
    assert column.remote_field.on_delete is models.DO_NOTHING
    assert column.db_constraint is False
    assert column.db_column == "owner"


TEXTUAL = EQUALITY_OPS | ORDER_OPS | TEXT_OPS
NUMERIC = EQUALITY_OPS | ORDER_OPS
OPERATORS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ["text", "textarea", "email", "url", "phone", "markdown", "html", "richtext", "code",
         "color", "signature", "qrcode", "autonumber"], TEXTUAL),
    **dict.fromkeys(
        ["number", "currency", "percent", "rating", "slider", "progress", "date", "datetime",
         "time"], NUMERIC),
    **dict.fromkeys(["boolean", "toggle", "select", "radio", "lookup", "master_detail", "tree",
                     "user"], EQUALITY_OPS),
    **dict.fromkeys(["multiselect", "checkboxes", "tags"], LIST_OPS),
    **dict.fromkeys(["password", "formula", "summary"], NO_OPS),
    **dict.fromkeys(["secret", "image", "file", "avatar", "video", "audio", "composite",
                     "repeater", "record", "location", "address", "vector"], PRESENCE_OPS),
    "json": PRESENCE_OPS | {"$eq"},
}  # fmt: skip


def test_declared_operators_of_every_type():
    assert set(OPERATORS) == set(all_types())
    for name, operators in OPERATORS.items():
        assert get_type(name).operators == operators, name


def test_multiple_switches_to_list_operators():
    for name in ("select", "lookup", "user"):
        assert get_type(name).operators_for(make_field(name, multiple=True)) == LIST_OPS
    assert get_type("radio").operators_for(make_field("radio", multiple=True)) == EQUALITY_OPS


def test_flags():
    assert {n for n, t in all_types().items() if t.computed} == COMPUTED
    assert {n for n, t in all_types().items() if t.relational} == {
        "lookup",
        "master_detail",
        "tree",
        "user",
    }
    assert {n for n, t in all_types().items() if not t.returned} == {"password"}
    assert {n for n, t in all_types().items() if t.text_searchable} == {
        "text", "textarea", "markdown", "email", "phone", "url", "richtext", "html", "code",
        "autonumber",
    }  # fmt: skip
