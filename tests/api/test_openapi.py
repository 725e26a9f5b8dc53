"""/api/v1/openapi.json is a valid OpenAPI 3 document that matches what the API answers;
/api/v1/meta/objects[/<name>] describe the live schema exactly."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from apps.objectql.filemeta import MEDIA_TYPES
from apps.projects.models import AppVersion
from tests import factories

pytestmark = pytest.mark.django_db

OPERATIONS = {
    "/api/v1/data/{name}": {"get": "list_{name}", "post": "create_{name}"},
    "/api/v1/data/{name}/query": {"post": "query_{name}"},
    "/api/v1/data/{name}/{{id}}": {
        "get": "get_{name}",
        "patch": "update_{name}",
        "delete": "delete_{name}",
    },
}


def document(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    """A validator for `schema` whose `#/components/...` references resolve in `doc`."""
    return OAS30Validator({**schema, "components": doc["components"]})


def response_schema(doc: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    return doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def request_schema(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def errors_of(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}"
        for e in validator(doc, schema).iter_errors(instance)
    ]


def check_document(client, artifact: dict[str, Any]) -> dict[str, Any]:
    doc = document(client)
    validate(doc)  # raises on any violation of the OpenAPI 3 schema
    assert doc["openapi"].startswith("3.")
    names = [o["name"] for o in artifact["objects"]]
    expected_paths = {
        template.format(name=name): set(operations)
        for name in names
        for template, operations in OPERATIONS.items()
    }
    for obj in artifact["objects"]:  # share routes for objects with a grant table
        if obj.get("sharingModel", "private") in ("private", "public_read", "read"):
            expected_paths[f"/api/v1/data/{obj['name']}/{{id}}/shares"] = {"get", "post"}
            expected_paths[f"/api/v1/data/{obj['name']}/{{id}}/shares/{{share_id}}"] = {"delete"}
    for obj in artifact["objects"]:  # file routes for objects with media fields
        if any(f["type"] in MEDIA_TYPES for f in obj["fields"].values()):
            expected_paths[f"/api/v1/data/{obj['name']}/{{id}}/files/{{field}}"] = {"post"}
            expected_paths[f"/api/v1/data/{obj['name']}/{{id}}/files/{{field}}/{{ref}}"] = {
                "get", "delete",
            }  # fmt: skip
    assert {p: set(ops) - {"parameters"} for p, ops in doc["paths"].items()} == expected_paths
    for name in names:
        for template, operations in OPERATIONS.items():
            for method, operation_id in operations.items():
                operation = doc["paths"][template.format(name=name)][method]
                assert operation["operationId"] == operation_id.format(name=name)
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {"Error", *names, *(f"{n}.patch" for n in names)}
    for obj in artifact["objects"]:
        schema = schemas[obj["name"]]
        returned = [n for n, f in obj["fields"].items() if f["type"] != "password"]
        system = ["id", "owner_id", "created_by", "updated_by", "created_at", "updated_at"]
        assert list(schema["properties"]) == list(dict.fromkeys([*system, *returned]))
        required = [
            n
            for n, f in obj["fields"].items()
            if f.get("required")
            and f["type"] not in ("formula", "summary", "autonumber")
            and n not in system
        ]
        assert schema.get("required", []) == required, obj["name"]
        assert "required" not in schemas[f"{obj['name']}.patch"]
        for field, definition in obj["fields"].items():
            if definition["type"] in ("formula", "summary", "autonumber"):
                assert schema["properties"][field]["readOnly"] is True, field
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    return doc


def check_records_match(client, doc: dict[str, Any], names: list[str]) -> None:
    """Every list and get answer of every object is valid against the document."""
    for name in names:
        path = f"/api/v1/data/{name}"
        body = client.get(path, {"top": 200}).json()
        assert errors_of(doc, response_schema(doc, path, "get", "200"), body) == [], name
        queried = client.post(f"{path}/query", {"top": 5}, format="json").json()
        assert errors_of(doc, response_schema(doc, f"{path}/query", "post", "200"), queried) == []
        for record in body["records"][:3]:
            one = client.get(f"{path}/{record['id']}").json()
            schema = response_schema(doc, f"{path}/{{id}}", "get", "200")
            assert errors_of(doc, schema, one) == [], (name, record["id"])


def test_demo_document_is_valid_and_matches_the_answers(demo_client):
    artifact = factories.demo_artifact()
    doc = check_document(demo_client, artifact)
    assert doc["info"]["title"] == artifact["manifest"]["name"]
    check_records_match(demo_client, doc, [o["name"] for o in artifact["objects"]])
    customer = doc["components"]["schemas"]["demo_customer"]["properties"]
    assert customer["tier"] == {
        "type": "string",
        "enum": ["standard", "gold", "platinum", None],
        "nullable": True,
        "title": "Tier",
    }
    assert customer["open_projects"] == {
        "type": "integer",
        "readOnly": True,
        "nullable": True,
        "title": "Projects",
    }


def test_showcase_document_is_valid_and_matches_the_answers(showcase_client):
    artifact = factories.shared_artifact("showcase-v17")
    doc = check_document(showcase_client, artifact)
    check_records_match(showcase_client, doc, [o["name"] for o in artifact["objects"]])
    zoo = doc["components"]["schemas"]["showcase_field_zoo"]["properties"]
    assert "f_password" not in zoo
    assert zoo["f_date"]["format"] == "date" and zoo["f_datetime"]["format"] == "date-time"
    assert zoo["f_rating"]["type"] == "integer"


def test_request_bodies_of_the_document_accept_what_the_api_accepts(demo_client):
    doc = document(demo_client)
    path = "/api/v1/data/demo_customer"
    create = {"name": "Documented", "tier": "gold", "email": "d@example.com"}
    assert errors_of(doc, request_schema(doc, path, "post"), create) == []
    assert demo_client.post(path, create, format="json").status_code == 201
    record_id = demo_client.get(path, {"name": "Documented"}).json()["records"][0]["id"]
    update = {"tier": "platinum"}
    assert errors_of(doc, request_schema(doc, f"{path}/{{id}}", "patch"), update) == []
    assert demo_client.patch(f"{path}/{record_id}", update, format="json").status_code == 200
    # what the API refuses, the document refuses too
    assert errors_of(doc, request_schema(doc, path, "post"), {"tier": "gold"}) != []
    assert errors_of(doc, request_schema(doc, path, "post"), {"name": "x", "tier": "x"}) != []


def test_error_answers_match_the_error_schema(demo_client):
    doc = document(demo_client)
    error = doc["components"]["schemas"]["Error"]
    for response in (
        demo_client.get("/api/v1/data/demo_customer/nope"),
        demo_client.post("/api/v1/data/demo_project", {"budget": "x"}, format="json"),
        demo_client.get("/api/v1/data/demo_customer", {"sort": "nope"}),
    ):
        assert response.status_code in (400, 404)
        assert errors_of(doc, error, response.json()) == []


def test_document_needs_authentication(demo):
    response = factories.api_client(demo).get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


# -- /api/v1/meta ------------------------------------------------------------------------

SYSTEM_FIELDS = ["id", "owner_id", "created_by", "updated_by", "created_at", "updated_at"]
FIELD_DEFAULTS = {
    "required": False,
    "unique": False,
    "searchable": False,
    "sortable": True,
    "hidden": False,
    "readonly": False,
    "multiple": False,
    "externalId": False,
}


def described(definition: dict[str, Any]) -> dict[str, Any]:
    """A field as /meta describes it: the artifact's keys over the protocol's defaults."""
    return {**FIELD_DEFAULTS, **definition}


def test_meta_objects_lists_every_object_exactly(demo_client, demo):
    artifact = factories.demo_artifact()
    response = demo_client.get("/api/v1/meta/objects")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"objects", "version"}
    assert body["version"] == AppVersion.objects.get(pk=demo.published_version_id).number
    assert [o["name"] for o in body["objects"]] == [o["name"] for o in artifact["objects"]]
    for described_object, obj in zip(body["objects"], artifact["objects"], strict=True):
        assert described_object == {
            "name": obj["name"],
            "label": obj["label"],
            "pluralLabel": obj["pluralLabel"],
            "description": obj.get("description"),
            "icon": obj.get("icon"),
            "displayField": described_object["displayField"],
            "sharingModel": obj["sharingModel"],
            "systemFields": SYSTEM_FIELDS,
            "fields": described_object["fields"],
        }
        assert described_object["displayField"] in obj["fields"]
        assert list(described_object["fields"]) == list(obj["fields"])
        for name, definition in obj["fields"].items():
            shown = described_object["fields"][name]
            if "options" in definition:
                options = [{"default": False, **o} for o in definition["options"]]
                assert shown == described({**definition, "options": options}), name
            else:
                assert shown == described(definition), name


def test_meta_object_describes_one_object_exactly(demo_client):
    response = demo_client.get("/api/v1/meta/objects/demo_invoice")
    assert response.status_code == 200
    assert response.json() == {
        "name": "demo_invoice",
        "label": "Invoice",
        "pluralLabel": "Invoices",
        "description": None,
        "icon": "receipt",
        "displayField": "number",
        "sharingModel": "private",
        "systemFields": SYSTEM_FIELDS,
        "fields": {
            "number": described(
                {"label": "Number", "type": "autonumber", "format": "INV-{YYYY}-{0000}"}
            ),
            "customer": described(
                {
                    "label": "Customer",
                    "type": "lookup",
                    "required": True,
                    "reference": "demo_customer",
                    "deleteBehavior": "restrict",
                }
            ),
            "project": described(
                {
                    "label": "Project",
                    "type": "lookup",
                    "reference": "demo_project",
                    "deleteBehavior": "set_null",
                }
            ),
            "amount": described(
                {"label": "Amount", "type": "currency", "required": True, "min": 0, "scale": 2}
            ),
            "issued_on": described({"label": "Issued", "type": "date"}),
            "paid": described({"label": "Paid", "type": "toggle", "defaultValue": False}),
            "bank_reference": described({"label": "Bank reference", "type": "secret"}),
        },
    }
    same = demo_client.get("/api/v1/meta/objects").json()["objects"]
    assert [o for o in same if o["name"] == "demo_invoice"] == [response.json()]


def test_meta_unknown_object_and_anonymous(demo_client, demo):
    response = demo_client.get("/api/v1/meta/objects/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "object 'nope' not found", "code": "OBJECT_NOT_FOUND"}
    anonymous = factories.api_client(demo)
    for path in ("/api/v1/meta/objects", "/api/v1/meta/objects/demo_invoice"):
        assert anonymous.get(path).status_code == 401
