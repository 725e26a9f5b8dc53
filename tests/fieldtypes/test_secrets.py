"""password (hashed, never returned) and secret (encrypted, masked, revealable)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.test import override_settings

from apps.fieldtypes.base import FieldValueError
from apps.fieldtypes.registry import get_type
from apps.fieldtypes.types.secret import MASK, mask

from .conftest import make_field

PASSWORD = get_type("password")
SECRET = get_type("secret")


def test_password_is_stored_as_a_django_hash_and_never_returned():
    field = make_field("password")
    stored = PASSWORD.clean(field, "correct horse")
    assert stored != "correct horse"
    identify_hasher(stored)  # a known Django hash format
    assert check_password("correct horse", stored)
    assert PASSWORD.verify(field, "correct horse", stored)
    assert not PASSWORD.verify(field, "wrong horse", stored)
    assert not PASSWORD.verify(field, "correct horse", None)
    assert PASSWORD.returned is False
    assert PASSWORD.to_wire(field, stored) is None


def test_password_minimum_length_comes_from_the_field():
    with pytest.raises(FieldValueError) as error:
        PASSWORD.clean(make_field("password"), "")
    assert error.value.code == "too_short"
    with pytest.raises(FieldValueError) as error:
        PASSWORD.clean(make_field("password", min_length=8), "1234567")
    assert error.value.code == "too_short"
    assert check_password("1234", PASSWORD.clean(make_field("password", min_length=4), "1234"))


@pytest.mark.parametrize(("value", "code"), [(12345678, "invalid_type"), ("x" * 9, "too_long")])
def test_password_invalid(value, code):
    with pytest.raises(FieldValueError) as error:
        PASSWORD.clean(make_field("password", max_length=8), value)
    assert error.value.code == code


def test_password_cannot_be_filtered_or_sorted():
    assert PASSWORD.operators == frozenset()
    assert PASSWORD.sortable is False
    with pytest.raises(FieldValueError) as error:
        PASSWORD.filter_operand(make_field("password"), "$eq", "x")
    assert error.value.code == "invalid_operator"


def test_secret_is_encrypted_at_rest_and_revealed_on_the_server():
    field = make_field("secret")
    token = SECRET.clean(field, "sk_live_12345678")
    assert "sk_live" not in token
    assert token != SECRET.clean(field, "sk_live_12345678")  # random IV
    assert SECRET.reveal(field, token) == "sk_live_12345678"
    assert SECRET.to_wire(field, token) == "••••••5678"
    assert SECRET.needs_wire_conversion is True


def test_secret_key_is_derived_from_settings_secret_key():
    field = make_field("secret")
    with override_settings(SECRET_KEY="key-one"):
        token = SECRET.clean(field, "hunter22")
    with override_settings(SECRET_KEY="key-two"):
        with pytest.raises(FieldValueError) as error:
            SECRET.reveal(field, token)
        assert error.value.code == "undecryptable"
        assert SECRET.to_wire(field, token) == MASK
    with override_settings(SECRET_KEY="key-two", SECRET_KEY_FALLBACKS=["key-one"]):
        assert SECRET.reveal(field, token) == "hunter22"


@pytest.mark.parametrize(
    ("plain", "wire"), [("", MASK), ("1234567", MASK), ("12345678", MASK + "5678")]
)
def test_mask(plain, wire):
    assert mask(plain) == wire


@pytest.mark.parametrize(
    ("value", "attrs", "code"),
    [
        (123, {}, "invalid_type"),
        ("ab", {"min_length": 3}, "too_short"),
        (MASK + "5678", {}, "masked_value"),
    ],
)
def test_secret_invalid(value, attrs, code):
    with pytest.raises(FieldValueError) as error:
        SECRET.clean(make_field("secret", **attrs), value)
    assert error.value.code == code


def test_secret_operators_are_presence_only():
    field = make_field("secret")
    assert SECRET.operators == {"$null", "$exists"}
    assert SECRET.filter_operand(field, "$exists", True) is True
    with pytest.raises(FieldValueError) as error:
        SECRET.filter_operand(field, "$eq", "x")
    assert error.value.code == "invalid_operator"
    assert SECRET.sortable is False
