"""Field type tests: Django settings when none are configured, and `make_field`.

`make_field` builds a stand-in for the artifact's pydantic Field with every attribute
the field types may read, so these tests do not depend on apps.artifact.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        SECRET_KEY="test",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    )
    django.setup()

FIELD_ATTRIBUTES: dict[str, Any] = {
    "label": None,
    "required": False,
    "unique": False,
    "searchable": False,
    "multiple": False,
    "max_length": None,
    "min_length": None,
    "min": None,
    "max": None,
    "precision": None,
    "scale": None,
    "step": None,
    "options": None,
    "default_value": None,
    "reference": None,
    "delete_behavior": None,
    "expression": None,
    "summary_operations": None,
    "format": None,
    "dimensions": None,
    "accept": None,
    "max_size": None,
    "language": None,
}


def _option(option: Any) -> SimpleNamespace:
    if isinstance(option, str):
        return SimpleNamespace(value=option, label=option.title(), default=False)
    return SimpleNamespace(**{"label": None, "default": False, **option})


def make_field(type: str, name: str = "f", **attrs: Any) -> SimpleNamespace:
    """A field definition of `type`; options may be strings or dicts, like the artifact."""
    unknown = set(attrs) - set(FIELD_ATTRIBUTES)
    if unknown:
        raise TypeError(f"make_field: unknown attributes {sorted(unknown)}")
    values = {**FIELD_ATTRIBUTES, **attrs}
    if values["options"] is not None:
        values["options"] = [_option(option) for option in values["options"]]
    if isinstance(values["expression"], str):
        values["expression"] = SimpleNamespace(source=values["expression"])
    if isinstance(values["summary_operations"], dict):
        values["summary_operations"] = SimpleNamespace(
            **{"filter": None, **values["summary_operations"]}
        )
    return SimpleNamespace(name=name, type=type, **values)
