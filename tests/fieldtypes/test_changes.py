"""change_kind: metadata, rewrite or destructive for a field's definition change."""

from __future__ import annotations

import pytest

from apps.fieldtypes.registry import get_type

from .conftest import make_field


def kind(old: tuple[str, dict], new: tuple[str, dict]) -> str:
    old_field = make_field(old[0], reference="account", **old[1])
    new_field = make_field(new[0], reference="account", **new[1])
    return get_type(new[0]).change_kind(old_field, new_field)


METADATA = [
    (("text", {}), ("text", {"label": "New label"})),
    (("text", {"max_length": 200}), ("text", {"max_length": 50})),  # checked in clean only
    (("text", {}), ("textarea", {})),
    (("textarea", {}), ("markdown", {})),
    (("email", {}), ("text", {})),
    (("text", {}), ("select", {"options": ["a"]})),
    (("select", {"options": ["a"]}), ("radio", {"options": ["a"]})),
    (("select", {"options": ["a", "b"]}), ("select", {"options": ["a"]})),
    (("multiselect", {}), ("checkboxes", {})),
    (("multiselect", {}), ("tags", {})),
    (("boolean", {}), ("toggle", {})),
    (("number", {}), ("percent", {})),
    (("percent", {}), ("slider", {})),
    (("number", {"min": 0}), ("number", {"min": 10})),
    (("currency", {}), ("number", {"precision": 18, "scale": 2})),
    (("lookup", {}), ("master_detail", {})),
    (("lookup", {"delete_behavior": "set_null"}), ("lookup", {"delete_behavior": "cascade"})),
    (("image", {}), ("file", {})),
    (("composite", {}), ("record", {})),
    (("address", {}), ("composite", {})),
    (("location", {}), ("json", {})),
    (("tags", {}), ("json", {})),
    (("formula", {}), ("summary", {})),
    (("password", {}), ("password", {"min_length": 12})),
    (("vector", {"dimensions": 3}), ("vector", {"dimensions": 3})),
]

REWRITE = [
    (("number", {}), ("text", {})),
    (("date", {}), ("text", {})),
    (("lookup", {}), ("text", {})),
    (("composite", {}), ("text", {})),
    (("secret", {}), ("text", {})),
    (("rating", {}), ("number", {})),
    (("rating", {}), ("currency", {})),
    (("boolean", {}), ("number", {})),
    (("currency", {"precision": 10, "scale": 2}), ("currency", {"precision": 12, "scale": 2})),
    (("currency", {"precision": 10, "scale": 2}), ("currency", {"precision": 11, "scale": 3})),
    (("date", {}), ("datetime", {})),
    (("select", {}), ("multiselect", {})),
    (("text", {}), ("tags", {})),
    (("file", {}), ("file", {"multiple": True})),
    (("text", {}), ("json", {})),
    (("formula", {}), ("number", {})),  # a column is added
]

DESTRUCTIVE = [
    (("text", {}), ("number", {})),
    (("text", {}), ("date", {})),
    (("number", {}), ("rating", {})),  # float -> integer
    (("number", {}), ("currency", {})),  # float -> decimal rounds
    (("currency", {"scale": 4}), ("currency", {"scale": 2})),
    (("currency", {"precision": 12, "scale": 2}), ("currency", {"precision": 10, "scale": 2})),
    (("currency", {"precision": 10, "scale": 2}), ("currency", {"precision": 10, "scale": 3})),
    (("datetime", {}), ("date", {})),
    (("time", {}), ("datetime", {})),
    (("multiselect", {}), ("select", {})),  # list -> scalar
    (("tags", {}), ("text", {})),
    (("file", {"multiple": True}), ("file", {})),
    (("text", {}), ("password", {})),
    (("text", {}), ("secret", {})),
    (("password", {}), ("text", {})),
    (("secret", {}), ("password", {})),
    (("text", {}), ("lookup", {})),  # scalar -> relation
    (("lookup", {}), ("lookup", {"multiple": True})),
    (("lookup", {"multiple": True}), ("lookup", {})),
    (("lookup", {}), ("user", {})),
    (("tags", {}), ("lookup", {"multiple": True})),
    (("number", {}), ("formula", {})),  # the column is dropped
    (("vector", {"dimensions": 3}), ("vector", {"dimensions": 4})),
    (("vector", {}), ("tags", {})),
    (("json", {}), ("composite", {})),
    (("repeater", {}), ("composite", {})),
    (("number", {}), ("boolean", {})),
    (("currency", {}), ("number", {})),  # 18 digits do not fit a float
]


@pytest.mark.parametrize(("old", "new"), METADATA)
def test_metadata(old, new):
    assert kind(old, new) == "metadata"


@pytest.mark.parametrize(("old", "new"), REWRITE)
def test_rewrite(old, new):
    assert kind(old, new) == "rewrite"


@pytest.mark.parametrize(("old", "new"), DESTRUCTIVE)
def test_destructive(old, new):
    assert kind(old, new) == "destructive"


def test_a_new_reference_target_is_destructive():
    old = make_field("lookup", reference="account")
    new = make_field("lookup", reference="contact")
    assert get_type("lookup").change_kind(old, new) == "destructive"


def test_small_decimals_convert_to_float_without_loss():
    old = make_field("currency", precision=12, scale=2)
    assert get_type("number").change_kind(old, make_field("number")) == "rewrite"
