"""Every field type through HTTP: round trips, each kind of invalid value, constraints.

Most tests use the showcase artifact's `showcase_field_zoo` (one field of each of the 49
types). Constraints the zoo does not declare (unique, minLength, precision, readonly,
dynamic defaults) use a small artifact of this module. The autonumber race publishes its
own artifact inside a transactional test and creates from several threads.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection, connections
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.fieldtypes.types.secret import MASK
from apps.kernel.cache import kernels
from apps.projects import hosts
from tests import factories

ZOO = "/api/v1/data/showcase_field_zoo"
MINIMAL = "Specimen — Minimal"


def zoo_row(record_id: str, *columns: str) -> tuple[Any, ...]:
    """Stored column values of one zoo row, read past the API."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT {", ".join(columns)} FROM "showcase__showcase_field_zoo" WHERE id = %s',
            [record_id],
        )
        return cursor.fetchone()


def ids_by_name(client, object_name: str, field: str = "name") -> dict[str, str]:
    body = client.get(f"/api/v1/data/{object_name}", {"top": 200}).json()
    return {r[field]: r["id"] for r in body["records"]}


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Overrides the conftest fixture: host routes are re-read for every test, but the
    kernels of the session-published projects stay built between the tests of this
    module (the showcase kernel costs ~0.1 s to build); they are dropped at its end."""
    hosts.invalidate()
    yield
    hosts.invalidate()


@pytest.fixture(autouse=True, scope="module")
def _drop_kernels_after_module():
    yield
    kernels.clear()


@pytest.fixture(scope="session")
def other_user(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return factories.make_user("other@showcase.test")


_REFS: dict[str, Any] = {}


@pytest.fixture
def refs(showcase_client, showcase_admin, other_user) -> dict[str, Any]:
    """Ids of seeded showcase records (committed once per session, so stable)."""
    if not _REFS:
        accounts = ids_by_name(showcase_client, "showcase_account")
        projects = ids_by_name(showcase_client, "showcase_project")
        zoo = ids_by_name(showcase_client, "showcase_field_zoo")
        _REFS.update(
            northwind=accounts["Northwind"],
            contoso=accounts["Contoso"],
            relaunch=projects["Website Relaunch"],
            minimal=zoo[MINIMAL],
        )
    return {**_REFS, "admin": showcase_admin.pk, "other": other_user.pk}


def same_json(left: Any, right: Any) -> bool:
    """JSON equality that does not let `True` pass for `1` or `"1"` for `1` (numbers
    compare by value: 2 and 2.0 are the same JSON number)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right


def post(client, values: dict[str, Any]):
    return client.post(ZOO, {"name": "Zoo specimen", **values}, format="json")


# -- round trips ------------------------------------------------------------------------

IMAGE = {"name": "cover.png", "url": "https://cdn.example/cover.png", "mimeType": "image/png"}
ROUND_TRIPS: list[tuple[str, Any, Any]] = [
    # (field, value sent, value read back)
    ("name", "Zoo — text ✓", "Zoo — text ✓"),
    ("f_textarea", "Line one\nLine two", "Line one\nLine two"),
    ("f_email", "  zoo@example.com ", "zoo@example.com"),
    ("f_url", "https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
    ("f_phone", "+1 (555) 010-2030", "+1 (555) 010-2030"),
    ("f_markdown", "# Title\n\n<b>kept</b> *as written*", "# Title\n\n<b>kept</b> *as written*"),
    ("f_html", '<p onclick="x()">Hi<script>alert(1)</script></p>', "<p>Hi</p>"),
    ("f_html", "<b>bold</b> & <i>italic</i>", "<b>bold</b> &amp; <i>italic</i>"),
    (
        "f_richtext",
        '<a href="javascript:alert(1)" style="x">x</a><em>y</em><iframe src="//e"></iframe>',
        '<a rel="noopener noreferrer">x</a><em>y</em>',
    ),
    (
        "f_richtext",
        '<a href="https://e.example/">e</a>',
        '<a href="https://e.example/" rel="noopener noreferrer">e</a>',
    ),
    ("f_number", 12.5, 12.5),
    ("f_number", 1000, 1000),
    ("f_number", 0, 0),
    ("f_currency", 1299.95, 1299.95),
    ("f_currency", 10.005, 10.01),
    ("f_currency", 42, 42),
    ("f_percent", 12.5, 12.5),
    ("f_date", "2026-06-17", "2026-06-17"),
    ("f_date", "2026-06-17T23:30:00Z", "2026-06-17"),
    ("f_datetime", "2026-06-17T14:30:00+02:00", "2026-06-17T12:30:00.000Z"),
    ("f_datetime", "2026-06-17T14:30:00.123456Z", "2026-06-17T14:30:00.123Z"),
    ("f_datetime", "2026-06-17T14:30", "2026-06-17T14:30:00.000Z"),
    ("f_time", "14:30", "14:30:00"),
    ("f_time", "09:05:30.250", "09:05:30"),
    ("f_boolean", True, True),
    ("f_boolean", False, False),
    ("f_toggle", True, True),
    ("f_select", "medium", "medium"),
    ("f_multiselect", ["blue", "red", "blue"], ["red", "blue"]),
    ("f_multiselect", [], []),
    ("f_radio", "no", "no"),
    ("f_checkboxes", ["push", "email"], ["email", "push"]),
    ("f_tags", [" urgent ", "b", "urgent"], ["urgent", "b"]),
    ("f_image", IMAGE, IMAGE),
    ("f_file", {"name": "a.pdf", "key": "uploads/a.pdf", "size": 10}, None),
    ("f_avatar", {"name": "me.jpg", "url": "/media/me.jpg", "mimeType": "image/jpeg"}, None),
    (
        "f_video",
        {"name": "v.mp4", "url": "https://cdn.example/v.mp4", "mimeType": "video/mp4"},
        None,
    ),
    ("f_audio", {"name": "a.mp3", "key": "k/a.mp3", "mimeType": "audio/mpeg", "size": 0}, None),
    ("f_composite", {"width": 10, "height": 20, "unit": "cm"}, None),
    ("f_repeater", [{"label": "one", "qty": 1}, {"label": "two", "qty": None}], None),
    ("f_record", {"primary": {"name": "A", "score": 9}}, None),
    ("f_location", {"lat": 47.6062, "lng": -122.3321}, None),
    ("f_location", {"latitude": -33.9, "longitude": 151, "altitude": 5}, None),
    (
        "f_address",
        {"street": "1 Main St", "postal_code": "98101", "country": "US", "state": None},
        {"street": "1 Main St", "postalCode": "98101", "country": "US"},
    ),
    ("f_code", '{\n  "ok": true\n}', '{\n  "ok": true\n}'),
    ("f_json", {"nested": {"k": "v"}, "list": [1, 2.5, None, True, "x"]}, None),
    ("f_json", [1, "two"], None),
    ("f_json", "just a string", None),
    ("f_color", "#2563eb", "#2563eb"),
    ("f_color", "#FFF", "#FFF"),
    ("f_rating", 5, 5),
    ("f_rating", 1, 1),
    ("f_slider", 55, 55),
    ("f_slider", 100, 100),
    ("f_signature", "data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="),
    ("f_qrcode", "https://objectstack.ai/?q=1", "https://objectstack.ai/?q=1"),
    ("f_progress", 33.3, 33.3),
    ("f_vector", [0.12, 2, -3.5], [0.12, 2.0, -3.5]),
]


@pytest.mark.parametrize(
    "field,value,expected", ROUND_TRIPS, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(ROUND_TRIPS)]
)
def test_valid_value_round_trips(showcase_client, field, value, expected):
    expected = value if expected is None else expected
    created = post(showcase_client, {field: value})
    assert created.status_code == 201, created.content
    body = created.json()
    assert same_json(body["record"][field], expected), (body["record"][field], expected)
    fetched = showcase_client.get(f"{ZOO}/{body['id']}")
    assert fetched.json() == body
    listed = showcase_client.get(ZOO, {"filter": json.dumps({"id": body["id"]})}).json()
    assert listed["records"] == [body["record"]]
    # the value survives an update of another field unchanged
    updated = showcase_client.patch(
        f"{ZOO}/{body['id']}", {"f_textarea": "touched"}, format="json"
    ).json()
    assert same_json(updated["record"][field], expected if field != "f_textarea" else "touched")


def test_relations_round_trip_and_expand(showcase_client, refs):
    created = post(
        showcase_client,
        {
            "f_lookup": refs["northwind"],
            "f_lookups": [refs["contoso"], refs["northwind"], refs["contoso"]],
            "f_master_detail": refs["relaunch"],
            "f_tree": refs["minimal"],
            "f_user": refs["other"],
            "f_users": [refs["other"], str(refs["admin"])],
        },
    )
    assert created.status_code == 201, created.content
    record = created.json()["record"]
    assert {k: record[k] for k in ("f_lookup", "f_lookups", "f_master_detail", "f_tree")} == {
        "f_lookup": refs["northwind"],
        "f_lookups": [refs["contoso"], refs["northwind"]],
        "f_master_detail": refs["relaunch"],
        "f_tree": refs["minimal"],
    }
    assert (record["f_user"], record["f_users"]) == (refs["other"], [refs["other"], refs["admin"]])
    assert record["f_owner"] == refs["admin"]  # defaultValue "current_user"
    expanded = showcase_client.get(
        f"{ZOO}/{record['id']}", {"expand": "f_lookup,f_lookups,f_tree,f_user"}
    ).json()["record"]
    assert expanded["f_lookup"]["id"] == refs["northwind"]
    assert expanded["f_lookup"]["name"] == "Northwind"
    assert [a["name"] for a in expanded["f_lookups"]] == ["Contoso", "Northwind"]
    assert (expanded["f_tree"]["id"], expanded["f_tree"]["name"]) == (refs["minimal"], MINIMAL)
    assert expanded["f_user"]["id"] == refs["other"]
    assert expanded["f_user"]["email"] == "other@showcase.test"


def test_password_is_stored_hashed_and_never_returned(showcase_client):
    created = post(showcase_client, {"f_password": "hunter2"})
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    assert "f_password" not in created.json()["record"]
    assert "f_password" not in showcase_client.get(f"{ZOO}/{record_id}").json()["record"]
    listed = showcase_client.get(ZOO, {"filter": json.dumps({"id": record_id})}).json()
    assert "f_password" not in listed["records"][0]
    (stored,) = zoo_row(record_id, "f_password")
    assert stored != "hunter2" and check_password("hunter2", stored)
    assert "hunter2" not in created.content.decode()
    event = AuditEvent.objects.get(action="create", record_id=record_id)
    assert ["f_password", None, "[redacted]"] in event.changes
    # it cannot be selected, filtered or sorted on
    for params in (
        {"select": "f_password"},
        {"filter": json.dumps({"f_password": "hunter2"})},
        {"sort": "f_password"},
    ):
        response = showcase_client.get(ZOO, params)
        assert response.status_code == 400, params
        assert response.json()["code"] in ("INVALID_FIELD", "INVALID_QUERY"), params


def test_secret_is_encrypted_at_rest_and_masked(showcase_client):
    created = post(showcase_client, {"f_secret": "sk_live_1234567890"})
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    assert created.json()["record"]["f_secret"] == MASK + "7890"
    assert showcase_client.get(f"{ZOO}/{record_id}").json()["record"]["f_secret"] == MASK + "7890"
    (stored,) = zoo_row(record_id, "f_secret")
    assert "sk_live" not in stored
    short = post(showcase_client, {"f_secret": "abc"}).json()["record"]["f_secret"]
    assert short == MASK
    event = AuditEvent.objects.get(action="create", record_id=record_id)
    assert ["f_secret", None, "[redacted]"] in event.changes
    assert "sk_live" not in json.dumps(event.changes)
    # sending the mask back is refused; a new value replaces the old one
    masked = showcase_client.patch(f"{ZOO}/{record_id}", {"f_secret": MASK + "7890"}, format="json")
    assert masked.status_code == 400
    assert [(f["field"], f["code"]) for f in masked.json()["fields"]] == [
        ("f_secret", "masked_value")
    ]
    renewed = showcase_client.patch(
        f"{ZOO}/{record_id}", {"f_secret": "sk_live_abcdefgh"}, format="json"
    )
    assert renewed.json()["record"]["f_secret"] == MASK + "efgh"


def test_defaults_apply_on_create_only(showcase_client, showcase_admin):
    record = post(showcase_client, {}).json()["record"]
    assert (record["f_percent"], record["f_toggle"], record["f_boolean"]) == (50, False, False)
    assert (record["f_select"], record["f_owner"]) == ("low", showcase_admin.pk)
    assert record["f_formula"] == 0  # null number: the formula's 0 branch
    # an explicit null is kept as null, not replaced by the default
    explicit = post(showcase_client, {"f_percent": None, "f_select": None}).json()["record"]
    assert (explicit["f_percent"], explicit["f_select"]) == (None, None)
    # an update does not re-apply defaults to fields it does not name
    showcase_client.patch(f"{ZOO}/{explicit['id']}", {"f_number": 3}, format="json")
    again = showcase_client.get(f"{ZOO}/{explicit['id']}").json()["record"]
    assert (again["f_percent"], again["f_select"], again["f_number"]) == (None, None, 3)


def test_formula_follows_its_inputs(showcase_client):
    record = post(showcase_client, {"f_number": 420, "f_percent": 75}).json()["record"]
    assert record["f_formula"] == 315
    updated = showcase_client.patch(f"{ZOO}/{record['id']}", {"f_percent": 10}, format="json")
    assert updated.json()["record"]["f_formula"] == 42


# -- invalid values -----------------------------------------------------------------------

LONG_VECTOR = [0.0] * 1537
INVALID: list[tuple[str, Any, str]] = [
    # (field, value, fieldtype code)
    ("name", "x" * 201, "too_long"),
    ("name", 123, "invalid_type"),
    ("name", "", "required"),
    ("f_textarea", ["a"], "invalid_type"),
    ("f_email", "not-an-email", "invalid_email"),
    ("f_email", 5, "invalid_type"),
    ("f_url", "ftp://example.com/x", "invalid_url"),
    ("f_url", "javascript:alert(1)", "invalid_url"),
    ("f_url", "https://", "invalid_url"),
    ("f_phone", "call me", "invalid_phone"),
    ("f_password", "", "too_short"),
    ("f_password", 1234, "invalid_type"),
    ("f_secret", 42, "invalid_type"),
    ("f_secret", MASK + "1234", "masked_value"),
    ("f_markdown", {"a": 1}, "invalid_type"),
    ("f_html", 5, "invalid_type"),
    ("f_richtext", True, "invalid_type"),
    ("f_number", -1, "too_small"),
    ("f_number", 1000.5, "too_large"),
    ("f_number", "12", "invalid_type"),
    ("f_number", True, "invalid_type"),
    ("f_currency", -0.01, "too_small"),
    ("f_currency", "9.99", "invalid_type"),
    ("f_currency", 1e30, "out_of_range"),
    ("f_percent", 100.01, "too_large"),
    ("f_percent", -5, "too_small"),
    ("f_date", "17/06/2026", "invalid_date"),
    ("f_date", "2026-02-30", "invalid_date"),
    ("f_date", 20260617, "invalid_date"),
    ("f_datetime", "yesterday", "invalid_datetime"),
    ("f_datetime", "2026-06-17T25:00:00Z", "invalid_datetime"),
    ("f_datetime", 1718634600, "invalid_datetime"),
    ("f_time", "25:00", "invalid_time"),
    ("f_time", "2pm", "invalid_time"),
    ("f_boolean", "true", "invalid_type"),
    ("f_boolean", 1, "invalid_type"),
    ("f_toggle", "yes", "invalid_type"),
    ("f_select", "urgent", "invalid_choice"),
    ("f_select", 1, "invalid_type"),
    ("f_multiselect", ["red", "pink"], "invalid_choice"),
    ("f_multiselect", "red", "invalid_type"),
    ("f_radio", "maybe", "invalid_choice"),
    ("f_checkboxes", ["fax"], "invalid_choice"),
    ("f_tags", "alpha", "invalid_type"),
    ("f_tags", ["ok", "  "], "invalid_tag"),
    ("f_tags", [1], "invalid_type"),
    ("f_lookup", "no-such-account", "invalid_reference"),
    ("f_lookup", 5, "invalid_type"),
    ("f_lookup", "", "invalid_id"),
    ("f_lookups", ["no-such-account"], "invalid_reference"),
    ("f_lookups", "not-a-list", "invalid_type"),
    ("f_master_detail", "no-such-project", "invalid_reference"),
    ("f_tree", "no-such-specimen", "invalid_reference"),
    ("f_user", "bob", "invalid_type"),
    ("f_user", 0, "invalid_id"),
    ("f_user", 999999, "invalid_reference"),
    ("f_users", [True], "invalid_type"),
    ("f_users", [999998], "invalid_reference"),
    (
        "f_image",
        {"name": "a.pdf", "url": "https://x.example/a.pdf", "mimeType": "application/pdf"},
        "invalid_file_type",
    ),
    ("f_image", "cover.png", "invalid_type"),
    ("f_image", {"name": "cover.png"}, "invalid_file"),
    ("f_image", {"name": "a.png", "url": "javascript:alert(1)"}, "invalid_url"),
    ("f_file", {"name": "a.pdf", "key": "k", "size": -1}, "invalid_file"),
    ("f_file", {"name": "a.pdf", "key": "k", "meta": {"x": 1}}, "invalid_file"),
    ("f_avatar", {"name": "a.mp3", "key": "k", "mimeType": "audio/mpeg"}, "invalid_file_type"),
    ("f_video", {"name": "a.png", "key": "k", "mimeType": "image/png"}, "invalid_file_type"),
    ("f_audio", {"name": "a.mp4", "key": "k", "mimeType": "video/mp4"}, "invalid_file_type"),
    ("f_composite", [1, 2], "invalid_type"),
    ("f_repeater", {"label": "one"}, "invalid_type"),
    ("f_repeater", [{"label": "one"}, 2], "invalid_row"),
    ("f_record", "text", "invalid_type"),
    ("f_location", {"lat": 91, "lng": 0}, "out_of_range"),
    ("f_location", {"lat": 1}, "invalid_location"),
    ("f_location", {"lat": 1, "longitude": 2}, "invalid_location"),
    ("f_location", {"lat": "1", "lng": 2}, "invalid_type"),
    ("f_address", {"planet": "Mars"}, "invalid_address"),
    ("f_address", {"city": 5}, "invalid_address"),
    ("f_address", "1 Main St", "invalid_type"),
    ("f_code", 5, "invalid_type"),
    ("f_signature", 5, "invalid_type"),
    ("f_qrcode", ["https://x.example"], "invalid_type"),
    ("f_color", "blue", "invalid_color"),
    ("f_color", "#12345", "invalid_color"),
    ("f_rating", 6, "too_large"),
    ("f_rating", 0, "too_small"),
    ("f_rating", 2.5, "not_integer"),
    ("f_slider", 57, "invalid_step"),
    ("f_slider", 105, "too_large"),
    ("f_progress", 100.5, "too_large"),
    ("f_vector", ["a"], "invalid_type"),
    ("f_vector", LONG_VECTOR, "invalid_dimensions"),
    ("f_vector", {"x": 1}, "invalid_type"),
]


@pytest.mark.parametrize(
    "field,value,code", INVALID, ids=[f"{f}-{c}-{i}" for i, (f, _, c) in enumerate(INVALID)]
)
def test_invalid_value_is_a_validation_error(showcase_client, refs, field, value, code):
    before = showcase_client.get(ZOO, {"count": "true", "top": 0}).json()["total"]
    response = post(showcase_client, {field: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "code", "fields"}
    assert (body["error"], body["code"]) == ("validation failed", "VALIDATION_FAILED")
    assert [(f["field"], f["code"]) for f in body["fields"]] == [(field, code)]
    assert set(body["fields"][0]) == {"field", "code", "message"}
    assert isinstance(body["fields"][0]["message"], str) and body["fields"][0]["message"]
    assert showcase_client.get(ZOO, {"top": 0}).json()["total"] == before
    # the same value is refused by an update, which leaves the record unchanged
    patched = showcase_client.patch(f"{ZOO}/{refs['minimal']}", {field: value}, format="json")
    assert patched.status_code == 400, patched.content
    assert [(f["field"], f["code"]) for f in patched.json()["fields"]] == [(field, code)]


def test_every_field_type_is_exercised():
    """The round trips and invalid values above reach all 49 types through the zoo; the
    zoo has no summary field (test_shared_artifacts covers crm_opportunity.line_total)."""
    from apps.fieldtypes.registry import all_types

    raw = factories.shared_artifact("showcase-v17")
    zoo = next(o for o in raw["objects"] if o["name"] == "showcase_field_zoo")
    type_of = {name: field["type"] for name, field in zoo["fields"].items()}
    special = ["f_lookup", "f_lookups", "f_master_detail", "f_tree", "f_user", "f_owner"]
    special += ["f_password", "f_secret", "f_formula", "f_autonumber"]
    tripped = {type_of[field] for field, _, _ in ROUND_TRIPS} | {type_of[f] for f in special}
    refused = {type_of[field] for field, _, _ in INVALID}
    assert set(all_types()) - tripped == {"summary"}
    # json takes any JSON value; formula and autonumber are refused with 403 (see below)
    assert set(all_types()) - refused == {"summary", "formula", "autonumber", "json"}
    assert len(all_types()) == 49


def test_every_problem_is_listed_at_once(showcase_client):
    response = showcase_client.post(
        ZOO,
        {"f_email": "x", "f_rating": 9, "f_select": "nope", "f_date": "soon"},
        format="json",
    )
    assert response.status_code == 400
    assert sorted((f["field"], f["code"]) for f in response.json()["fields"]) == [
        ("f_date", "invalid_date"),
        ("f_email", "invalid_email"),
        ("f_rating", "too_large"),
        ("f_select", "invalid_choice"),
        ("name", "required"),
    ]


def test_required_on_create_and_update(showcase_client, refs):
    missing = showcase_client.post(ZOO, {"f_number": 1}, format="json")
    assert missing.status_code == 400
    assert missing.json()["fields"] == [
        {"field": "name", "code": "required", "message": "name is required"}
    ]
    for value in (None, ""):
        cleared = showcase_client.patch(f"{ZOO}/{refs['minimal']}", {"name": value}, format="json")
        assert cleared.status_code == 400, value
        assert [(f["field"], f["code"]) for f in cleared.json()["fields"]] == [("name", "required")]
    # an update that does not name a required field does not need it
    ok = showcase_client.patch(f"{ZOO}/{refs['minimal']}", {"f_number": 8}, format="json")
    assert ok.status_code == 200
    assert ok.json()["record"]["name"] == MINIMAL


def test_computed_and_autonumber_fields_cannot_be_set(showcase_client, refs):
    for field, value in (("f_autonumber", "0999"), ("f_formula", 1)):
        for response in (
            post(showcase_client, {field: value}),
            showcase_client.patch(f"{ZOO}/{refs['minimal']}", {field: value}, format="json"),
        ):
            assert response.status_code == 403, response.content
            assert response.json() == {
                "error": f"you may not set {field}",
                "code": "FORBIDDEN",
                "fields": [
                    {"field": field, "code": "not_editable", "message": "this field cannot be set"}
                ],
            }


def test_autonumbers_increase_per_object(showcase_client):
    seeded = sorted(
        r["f_autonumber"] for r in showcase_client.get(ZOO, {"top": 100}).json()["records"]
    )
    assert seeded == ["0001", "0002"]
    numbers = [post(showcase_client, {}).json()["record"]["f_autonumber"] for _ in range(3)]
    assert numbers == ["0003", "0004", "0005"]
    # a failed create does not use up a number
    assert post(showcase_client, {"f_rating": 9}).status_code == 400
    assert post(showcase_client, {}).json()["record"]["f_autonumber"] == "0006"
    # sorting and filtering by the number work like text
    top = showcase_client.get(ZOO, {"sort": "-f_autonumber", "top": 1, "select": "f_autonumber"})
    assert top.json()["records"][0]["f_autonumber"] == "0006"
    found = showcase_client.get(ZOO, {"f_autonumber": "0004"}).json()
    assert [r["f_autonumber"] for r in found["records"]] == ["0004"]


# -- constraints the zoo does not declare ----------------------------------------------

CONSTRAINTS = {
    "manifest": {"id": "test.constraints", "namespace": "zc", "version": "1.0.0", "name": "C"},
    "objects": [
        {
            "name": "zc_item",
            "label": "Item",
            "fields": {
                "code": {"type": "text", "unique": True, "minLength": 3, "maxLength": 8},
                "email": {"type": "email", "unique": True},
                "qty": {"type": "number", "required": True, "min": 1, "max": 10},
                "price": {"type": "currency", "precision": 6, "scale": 2},
                "ratio": {"type": "number", "scale": 3},
                "kind": {
                    "type": "select",
                    "defaultValue": "b",
                    "options": [
                        {"label": "A", "value": "a", "default": True},
                        {"label": "B", "value": "b"},
                    ],
                },
                "flag": {"type": "boolean", "defaultValue": True},
                "due": {"type": "date", "defaultValue": "today"},
                "stamp": {"type": "datetime", "defaultValue": "now"},
                "label": {"type": "text", "defaultValue": "untitled"},
                "frozen": {"type": "text", "readonly": True},
            },
        }
    ],
}
ITEMS = "/api/v1/data/zc_item"


@pytest.fixture(scope="session")
def zc_session(publish_session):
    return publish_session("zooconstraints", CONSTRAINTS)


@pytest.fixture
def zc_client(zc_session, db):
    zc_session.refresh_from_db()
    return factories.api_client(zc_session, factories.make_user("admin@zooconstraints.test"))


def problems(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_FAILED"
    return [(f["field"], f["code"]) for f in response.json()["fields"]]


def test_unique_on_create_and_update(zc_client):
    first = zc_client.post(ITEMS, {"code": "ABC", "email": "a@x.example", "qty": 1}, format="json")
    assert first.status_code == 201, first.content
    duplicate = zc_client.post(ITEMS, {"code": "ABC", "qty": 2}, format="json")
    assert problems(duplicate) == [("code", "unique")]
    assert duplicate.json()["fields"][0]["message"] == "another zc_item has this code"
    other = zc_client.post(ITEMS, {"code": "ABD", "qty": 2}, format="json")
    assert other.status_code == 201
    clash = zc_client.patch(
        f"{ITEMS}/{other.json()['id']}", {"email": "a@x.example"}, format="json"
    )
    assert problems(clash) == [("email", "unique")]
    # several rows without a value are not duplicates of each other
    for _ in range(2):
        assert zc_client.post(ITEMS, {"qty": 3}, format="json").status_code == 201
    # the transaction is still usable after the refused writes
    assert zc_client.get(ITEMS, {"code": "ABD"}).json()["total"] == 1


def test_min_and_max_length(zc_client):
    assert problems(zc_client.post(ITEMS, {"code": "AB", "qty": 1}, format="json")) == [
        ("code", "too_short")
    ]
    assert problems(zc_client.post(ITEMS, {"code": "ABCDEFGHI", "qty": 1}, format="json")) == [
        ("code", "too_long")
    ]
    for code in ("ABC", "ABCDEFGH", "ÅÉÎØÜ"):
        response = zc_client.post(ITEMS, {"code": code, "qty": 1}, format="json")
        assert response.status_code == 201, (code, response.content)
        assert response.json()["record"]["code"] == code


def test_min_max_and_precision(zc_client):
    assert problems(zc_client.post(ITEMS, {"qty": 0}, format="json")) == [("qty", "too_small")]
    assert problems(zc_client.post(ITEMS, {"qty": 11}, format="json")) == [("qty", "too_large")]
    for qty in (1, 10, 5.5):
        assert zc_client.post(ITEMS, {"qty": qty}, format="json").json()["record"]["qty"] == qty
    assert problems(zc_client.post(ITEMS, {"qty": 1, "price": 10000}, format="json")) == [
        ("price", "out_of_range")
    ]
    record = zc_client.post(
        ITEMS, {"qty": 1, "price": 9999.994, "ratio": 0.12345}, format="json"
    ).json()["record"]
    assert (record["price"], record["ratio"]) == (9999.99, 0.123)
    record = zc_client.post(ITEMS, {"qty": 1, "ratio": 2.0005}, format="json").json()["record"]
    assert record["ratio"] == 2.001  # half up at `scale` decimals


def test_default_values(zc_client, db):
    before = timezone.now()
    record = zc_client.post(ITEMS, {"qty": 1}, format="json").json()["record"]
    assert (record["kind"], record["flag"], record["label"]) == ("b", True, "untitled")
    assert record["due"] == timezone.now().date().isoformat()
    stamp = timezone.datetime.fromisoformat(record["stamp"].replace("Z", "+00:00"))
    assert before.replace(microsecond=0) <= stamp <= timezone.now()
    assert (record["code"], record["email"], record["price"], record["frozen"]) == (
        None,
        None,
        None,
        None,
    )
    given = zc_client.post(
        ITEMS, {"qty": 1, "kind": "a", "flag": False, "label": "x"}, format="json"
    ).json()["record"]
    assert (given["kind"], given["flag"], given["label"]) == ("a", False, "x")


def test_readonly_field_is_set_on_create_only(zc_client):
    created = zc_client.post(ITEMS, {"qty": 1, "frozen": "v1"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["record"]["frozen"] == "v1"
    changed = zc_client.patch(f"{ITEMS}/{created.json()['id']}", {"frozen": "v2"}, format="json")
    assert changed.status_code == 403
    assert changed.json()["fields"] == [
        {"field": "frozen", "code": "not_editable", "message": "this field cannot be set"}
    ]


# -- autonumber under concurrency ----------------------------------------------------------

RACE = {
    "manifest": {"id": "test.race", "namespace": "race", "version": "1.0.0", "name": "Race"},
    "objects": [
        {
            "name": "race_ticket",
            "label": "Ticket",
            "fields": {
                "number": {"type": "autonumber", "format": "T-{0000}"},
                "title": {"type": "text", "required": True},
            },
        }
    ],
}
THREADS = 6
CREATES_PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_autonumber_is_gap_free_under_concurrent_creates():
    project = factories.publish_artifact("zoorace", RACE)
    user = factories.make_user("admin@zoorace.test", project, superuser=True)
    numbers: list[str] = []
    failures: list[Any] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            client = factories.api_client(project, user)
            start.wait()
            for n in range(CREATES_PER_THREAD):
                response = client.post(
                    "/api/v1/data/race_ticket", {"title": f"t{index}.{n}"}, format="json"
                )
                if response.status_code != 201:
                    failures.append(response.content)
                    continue
                with lock:
                    numbers.append(response.json()["record"]["number"])
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    total = THREADS * CREATES_PER_THREAD
    assert failures == []
    assert sorted(numbers) == [f"T-{n:04d}" for n in range(1, total + 1)]
    client = factories.api_client(project, user)
    stored = client.get("/api/v1/data/race_ticket", {"top": 100, "sort": "number"}).json()
    assert stored["total"] == total
    assert [r["number"] for r in stored["records"]] == sorted(numbers)
