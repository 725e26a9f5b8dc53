"""The registry holds exactly the 49 protocol-17 types, one module each."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from apps.fieldtypes import registry
from apps.fieldtypes.base import FieldType
from apps.fieldtypes.registry import Registry, UnknownFieldType, all_types, get_type
from apps.fieldtypes.types import TYPE_MODULES

PROTOCOL_17_TYPES = {
    "text", "textarea", "email", "url", "phone", "password", "secret", "markdown", "html",
    "richtext", "number", "currency", "percent", "date", "datetime", "time", "boolean",
    "toggle", "select", "multiselect", "radio", "checkboxes", "lookup", "master_detail",
    "tree", "user", "image", "file", "avatar", "video", "audio", "formula", "summary",
    "autonumber", "composite", "repeater", "record", "location", "address", "code", "json",
    "color", "rating", "slider", "signature", "qrcode", "progress", "tags", "vector",
}  # fmt: skip


def test_registry_has_exactly_the_49_types():
    assert len(PROTOCOL_17_TYPES) == 49
    assert set(all_types()) == PROTOCOL_17_TYPES


def test_each_type_is_registered_under_its_own_module_name():
    assert set(TYPE_MODULES) == PROTOCOL_17_TYPES
    for name in TYPE_MODULES:
        module = importlib.import_module(f"apps.fieldtypes.types.{name}")
        registered = get_type(name)
        assert isinstance(registered, FieldType)
        assert registered.name == name
        assert type(registered).__module__ == module.__name__


def test_type_modules_are_small_and_state_their_contract():
    for name in TYPE_MODULES:
        module = importlib.import_module(f"apps.fieldtypes.types.{name}")
        assert module.__doc__ and module.__doc__.startswith(f"{name}:"), name
        assert len(Path(inspect.getfile(module)).read_text().splitlines()) <= 120, name


def test_unknown_type_raises_a_clear_key_error():
    with pytest.raises(UnknownFieldType) as error:
        get_type("hologram")
    assert isinstance(error.value, KeyError)
    assert str(error.value).startswith("unknown field type 'hologram'; known: address, audio")


def test_all_types_returns_a_copy():
    types = all_types()
    types.pop("text")
    assert "text" in all_types()


def test_generic_registry_refuses_duplicates_and_blank_names():
    things: Registry[int] = Registry("thing")
    things.add("one", 1)
    assert things.get("one") == 1 and "one" in things
    with pytest.raises(ValueError, match="registered twice"):
        things.add("one", 2)
    with pytest.raises(ValueError, match="needs a name"):
        things.add("", 3)
    with pytest.raises(KeyError):
        things.get("two")


def test_register_refuses_a_second_class_with_a_taken_name():
    class Clash(FieldType):
        name = "text"

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Clash)
