"""Form widgets per field type, and the conversions between form values and wire values.

Each artifact field type maps to one `Kind` (text, number, date, choice, relation, ...):
the Django form field and widget that edit it, how a wire value (what objectql returns)
fills the widget, how a submitted value becomes the wire value objectql validates, and
how a value is displayed. Validation itself stays in objectql: a form only parses what
HTML cannot carry (numbers, JSON, tags), so the Console and the API refuse the same things.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.fieldtypes.types._html import sanitize_html
from apps.kernel.kernel import FieldRuntime

OMIT = object()  # "leave this field out of the payload" (a blank secret, an empty upload)

KINDS: dict[str, str] = {
    **dict.fromkeys(("text", "email", "url", "phone", "color", "qrcode", "signature"), "text"),
    **dict.fromkeys(("textarea", "markdown", "code"), "longtext"),
    **dict.fromkeys(("html", "richtext"), "html"),
    **dict.fromkeys(("number", "currency", "percent", "rating", "slider", "progress"), "number"),
    "date": "date", "datetime": "datetime", "time": "time",
    **dict.fromkeys(("boolean", "toggle"), "boolean"),
    **dict.fromkeys(("select", "radio"), "choice"),
    **dict.fromkeys(("multiselect", "checkboxes"), "choices"),
    **dict.fromkeys(("lookup", "master_detail", "tree"), "relation"),
    "user": "user",
    **dict.fromkeys(("file", "image", "avatar", "video", "audio"), "media"),
    **dict.fromkeys(
        ("json", "composite", "repeater", "record", "location", "address", "vector"), "json"
    ),
    "tags": "tags",
    **dict.fromkeys(("password", "secret"), "secret"),
    **dict.fromkeys(("formula", "summary", "autonumber"), "computed"),
}  # fmt: skip
INPUT_TYPES = {"email": "email", "url": "url", "phone": "tel"}


def kind_of(field: FieldRuntime) -> str:
    kind = KINDS.get(field.definition.type, "text")
    if kind == "relation" and field.target is None:
        return "user"  # a lookup to sys_user: people, not rows of an object
    if kind == "choice" and field.definition.multiple:
        return "choices"
    return kind


def options(field: FieldRuntime, option_label) -> list[tuple[str, str]]:
    return [
        (o.value, option_label(field.name, o.value, o.label or o.value))
        for o in field.definition.options or ()
    ]


def form_field(
    field: FieldRuntime,
    label: str,
    *,
    required: bool,
    help_text: str = "",
    choices: list[tuple[str, str]] | None = None,
    search_url: str = "",
) -> forms.Field:
    """The Django form field editing `field`; `choices` for choices, relations and users."""
    kind = kind_of(field)
    common: dict[str, Any] = {"label": label, "required": False, "help_text": help_text}
    attrs = {"data-required": "1"} if required else {}
    if kind == "text":
        input_type = INPUT_TYPES.get(field.definition.type, "text")
        widget = forms.TextInput(attrs={**attrs, "type": input_type, "class": "vTextField"})
        return forms.CharField(widget=widget, strip=False, **common)
    if kind in ("longtext", "json"):
        css = "vLargeTextField" + (" json" if kind == "json" else "")
        return forms.CharField(widget=forms.Textarea(attrs={**attrs, "class": css}), **common)
    if kind == "html":
        widget = forms.Textarea(attrs={**attrs, "class": "vLargeTextField richtext"})
        return forms.CharField(widget=widget, **common)
    if kind == "number":
        widget = forms.NumberInput(attrs={**attrs, "step": "any", "class": "vIntegerField"})
        return forms.CharField(widget=widget, **common)
    if kind in ("date", "datetime", "time"):
        input_type = {"date": "date", "datetime": "datetime-local", "time": "time"}[kind]
        widget = forms.TextInput(attrs={**attrs, "type": input_type})
        return forms.CharField(widget=widget, **common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind in ("choice", "relation", "user"):
        if kind == "relation" and field.definition.multiple:
            return forms.MultipleChoiceField(
                choices=choices or [], widget=forms.SelectMultiple(attrs=attrs), **common
            )
        select_attrs = dict(attrs)
        if search_url:
            select_attrs.update({"data-search-url": search_url, "class": "lookup"})
        widget = (
            forms.RadioSelect(attrs=attrs)
            if field.definition.type == "radio"
            else forms.Select(attrs=select_attrs)
        )
        return forms.ChoiceField(
            choices=[("", "---------"), *(choices or [])], widget=widget, **common
        )
    if kind == "choices":
        widget = (
            forms.CheckboxSelectMultiple(attrs=attrs)
            if field.definition.type == "checkboxes"
            else forms.SelectMultiple(attrs=attrs)
        )
        return forms.MultipleChoiceField(choices=choices or [], widget=widget, **common)
    if kind == "tags":
        widget = forms.TextInput(attrs={**attrs, "class": "vTextField", "placeholder": "a, b, c"})
        return forms.CharField(widget=widget, **common)
    if kind == "media":
        accept = ",".join(field.definition.accept or ())
        widget = forms.ClearableFileInput(attrs={**attrs, **({"accept": accept} if accept else {})})
        return forms.FileField(widget=widget, **common)
    if kind == "secret":
        widget = forms.PasswordInput(
            attrs={**attrs, "autocomplete": "new-password", "placeholder": "unchanged"}
        )
        return forms.CharField(widget=widget, strip=False, **common)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def initial(field: FieldRuntime, value: Any) -> Any:
    """A wire value as the widget shows it."""
    if value is None:
        return None
    kind = kind_of(field)
    if kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    if kind == "tags":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else value
    if kind == "datetime" and isinstance(value, str):
        return value[:16]  # 2026-01-02T09:30:00.000Z -> 2026-01-02T09:30
    if kind in ("relation", "user"):
        if isinstance(value, list):
            return [str(item.get("id") if isinstance(item, dict) else item) for item in value]
        return str(value.get("id") if isinstance(value, dict) else value)
    if kind in ("secret", "media"):
        return None
    return value


def to_wire(field: FieldRuntime, value: Any) -> tuple[Any, str | None]:
    """(the wire value of a submitted form value, or OMIT; a parse error message)."""
    kind = kind_of(field)
    if kind == "boolean":
        return bool(value), None
    if kind in ("choices",) or (kind == "relation" and field.definition.multiple):
        return list(value or []), None
    if kind == "media":
        return OMIT, None
    if kind == "secret":
        return (OMIT if not value else value), None
    if value in (None, ""):
        return None, None
    if kind == "number":
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None, "Enter a number."
        return (int(number) if number == number.to_integral_value() else number), None
    if kind == "datetime":
        text = str(value).strip()
        return (f"{text}:00Z" if len(text) == 16 else text), None
    if kind == "json":
        try:
            return json.loads(value), None
        except ValueError as error:
            return None, f"Enter valid JSON ({error.msg} at line {error.lineno})."
    if kind == "tags":
        return [part.strip() for part in str(value).split(",") if part.strip()], None
    if kind == "user":
        return (int(value) if str(value).isdigit() else value), None
    return value, None


def related_label(value: Any, display_field: str | None) -> str:
    """The name of an expanded lookup value (a dict) or a user."""
    if isinstance(value, dict):
        if "email" in value and "username" in value:
            name = f"{value.get('first_name') or ''} {value.get('last_name') or ''}".strip()
            return name or value.get("email") or value.get("username") or str(value.get("id"))
        shown = value.get(display_field) if display_field else None
        return str(shown if shown not in (None, "") else value.get("id"))
    return str(value)


def display(field: FieldRuntime, value: Any, option_label, display_of) -> SafeString | str:
    """A value for a list cell or a read-only form row (escaped; rich text sanitised)."""
    if value is None or value == "" or value == []:
        return mark_safe('<span class="empty">–</span>')
    kind = kind_of(field)
    if kind == "boolean":
        icon = "yes" if value else "no"
        return format_html('<img src="/static/admin/img/icon-{}.svg" alt="{}">', icon, value)
    if kind in ("choice", "choices"):
        values = value if isinstance(value, list) else [value]
        declared = {o.value: o.label or o.value for o in field.definition.options or ()}
        return ", ".join(
            option_label(field.name, str(v), declared.get(str(v), str(v))) for v in values
        )
    if kind in ("relation", "user"):
        values = value if isinstance(value, list) else [value]
        target = display_of(field.target) if field.target else None
        return ", ".join(related_label(v, target) for v in values)
    if kind == "html":
        return mark_safe(sanitize_html(str(value)))
    if kind == "media":
        files = value if isinstance(value, list) else [value]
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((f.get("url", ""), f.get("name", "file")) for f in files if isinstance(f, dict)),
        )
    if kind == "json":
        return format_html("<code>{}</code>", json.dumps(value, ensure_ascii=False)[:200])
    if kind == "tags" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
