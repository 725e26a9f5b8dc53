"""Bad input never gets a 500: malformed JSON, unknown names, wrong types, injections."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_malformed_json_body(demo_client):
    response = demo_client.post(
        "/api/v1/data/demo_customer", data=b'{"name": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


def test_body_must_be_an_object(demo_client):
    response = demo_client.post("/api/v1/data/demo_customer", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"


def test_unknown_object(demo_client):
    for method, path in (
        ("get", "/api/v1/data/nope"),
        ("get", "/api/v1/data/nope/1"),
        ("post", "/api/v1/data/nope"),
        ("delete", "/api/v1/data/nope/1"),
        ("post", "/api/v1/data/nope/query"),
    ):
        response = getattr(demo_client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json() == {"error": "object 'nope' not found", "code": "OBJECT_NOT_FOUND"}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"filter": '{"nope": 1}'}, "nope"),
        ({"sort": "-nope"}, "nope"),
        ({"select": "name,nope"}, "nope"),
        ({"nope": "x"}, "nope"),
        ({"filter": '["nope", "=", 1]'}, "nope"),
        ({"expand": "name"}, "name"),
    ],
)
def test_unknown_field_in_parameters(demo_client, params, field):
    response = demo_client.get("/api/v1/data/demo_customer", params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_FIELD"
    assert response.json()["field"] == field


def test_unknown_field_in_body(demo_client):
    response = demo_client.post(
        "/api/v1/data/demo_customer", {"name": "X", "nope": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "unknown field 'nope'",
        "code": "INVALID_FIELD",
        "field": "nope",
    }


def test_missing_required_and_wrong_types_listed_together(demo_client):
    response = demo_client.post(
        "/api/v1/data/demo_project",
        {"budget": "lots", "status": "bogus", "start_date": "tomorrow"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert {(f["field"], f["code"]) for f in body["fields"]} == {
        ("budget", "invalid_type"),
        ("status", "invalid_choice"),
        ("start_date", "invalid_date"),
        ("name", "required"),
        ("customer", "required"),
    }


def test_unknown_reference_is_a_validation_error(demo_client):
    response = demo_client.post(
        "/api/v1/data/demo_project", {"name": "P", "customer": "does-not-exist"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == [
        {
            "field": "customer",
            "code": "invalid_reference",
            "message": "no demo_customer with id does-not-exist",
        }
    ]


def test_system_fields_cannot_be_set(demo_client):
    response = demo_client.post(
        "/api/v1/data/demo_customer",
        {"name": "X", "created_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert response.json()["fields"][0]["field"] == "created_at"


def test_page_size_is_capped(demo_client, settings):
    settings.OS_MAX_PAGE_SIZE = 2
    response = demo_client.get("/api/v1/data/demo_customer", {"top": 10000})
    assert response.status_code == 200
    body = response.json()
    assert len(body["records"]) == 2 and body["hasMore"] is True and body["total"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"top": "-1"},
        {"top": "abc"},
        {"skip": "1.5"},
        {"count": "maybe"},
        {"filter": "{not json"},
        {"filter": '{"name": {"$regex": "x"}}'},
        {"sort": "name sideways"},
    ],
)
def test_bad_list_parameters(demo_client, params):
    response = demo_client.get("/api/v1/data/demo_customer", params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_QUERY"


@pytest.mark.parametrize(
    "value", ["'; DROP TABLE demo__demo_customer; --", "1 OR 1=1", '" OR ""="', "%", "_"]
)
def test_sql_injection_in_values_is_just_data(demo_client, value):
    response = demo_client.get(
        "/api/v1/data/demo_customer",
        {"filter": f'{{"name": {{"$contains": {__import__("json").dumps(value)}}}}}'},
    )
    assert response.status_code == 200
    assert response.json()["records"] == []
    assert demo_client.get("/api/v1/data/demo_customer").json()["total"] == 3


@pytest.mark.parametrize(
    "name", ["name; DROP TABLE x", "name__id", "name)--", 'id" OR 1=1', "../etc", "a.b.c"]
)
def test_sql_injection_in_field_names_is_invalid_field(demo_client, name):
    response = demo_client.get("/api/v1/data/demo_customer", {"sort": name})
    assert response.status_code == 400
    assert response.json()["code"] in {"INVALID_FIELD", "INVALID_QUERY"}
    response = demo_client.get("/api/v1/data/demo_customer", {"filter": f'{{"{name}": 1}}'})
    assert response.status_code == 400


def test_unique_violation_is_a_validation_error_and_the_connection_survives(demo_client):
    response = demo_client.post("/api/v1/data/demo_customer", {"name": "Fabrikam"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == [
        {"field": "name", "code": "unique", "message": "another demo_customer has this name"}
    ]
    assert demo_client.get("/api/v1/data/demo_customer").json()["total"] == 3
    batch = demo_client.post(
        "/api/v1/data/demo_customer/createMany",
        {"records": [{"name": "Fresh"}, {"name": "Fabrikam"}]},
        format="json",
    )
    assert batch.status_code == 400
    assert batch.json()["fields"][0]["field"] == "records[1].name"
    assert demo_client.get("/api/v1/data/demo_customer", {"name": "Fresh"}).json()["total"] == 0
