"""CRUD on the demo artifact through real HTTP requests: exact statuses, bodies, rows, audit."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def customer_id(client, name: str) -> str:
    response = client.get("/api/v1/data/demo_customer", {"name": name})
    assert response.status_code == 200, response.content
    return response.json()["records"][0]["id"]


def test_list_returns_seeded_records_in_wire_format(demo_client):
    response = demo_client.get("/api/v1/data/demo_customer", {"sort": "name"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"object", "records", "total", "hasMore"}
    assert body["object"] == "demo_customer"
    assert body["total"] == 3
    assert body["hasMore"] is False
    assert [r["name"] for r in body["records"]] == ["Contoso Ltd", "Fabrikam", "Northwind Traders"]
    first = body["records"][0]
    assert set(first) == {
        "id",
        "owner_id",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
        "name",
        "email",
        "tier",
        "website",
        "phone",
        "notes",
        "open_projects",
    }
    assert first["tier"] == "platinum"
    assert first["open_projects"] == 1


def test_create_get_update_delete_round_trip(demo_client, demo_admin):
    created = demo_client.post(
        "/api/v1/data/demo_customer",
        {"name": "Tailspin Toys", "email": "a@tailspin.example"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    record_id = body["id"]
    assert body["object"] == "demo_customer"
    assert body["record"]["name"] == "Tailspin Toys"
    assert body["record"]["tier"] == "standard"  # the option marked default
    assert body["record"]["owner_id"] == demo_admin.pk
    assert body["record"]["created_by"] == demo_admin.pk

    fetched = demo_client.get(f"/api/v1/data/demo_customer/{record_id}")
    assert fetched.status_code == 200
    assert fetched.json() == {"object": "demo_customer", "id": record_id, "record": body["record"]}

    updated = demo_client.patch(
        f"/api/v1/data/demo_customer/{record_id}", {"tier": "gold"}, format="json"
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["record"]["tier"] == "gold"

    deleted = demo_client.delete(f"/api/v1/data/demo_customer/{record_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"object": "demo_customer", "id": record_id, "success": True}
    assert demo_client.get(f"/api/v1/data/demo_customer/{record_id}").status_code == 404

    events = list(
        AuditEvent.objects.filter(record_id=record_id)
        .order_by("seq")
        .values_list("action", "changes")
    )
    assert [action for action, _ in events] == ["create", "update", "delete"]
    assert events[1][1] == [["tier", "standard", "gold"]]
    assert ["name", None, "Tailspin Toys"] in events[0][1]


def test_master_detail_lookup_expand_and_summary(demo_client):
    project = demo_client.get(
        "/api/v1/data/demo_project", {"name": "Northwind web shop", "expand": "customer"}
    ).json()
    record = project["records"][0]
    assert record["customer"]["name"] == "Northwind Traders"
    assert record["task_count"] == 2
    assert record["estimate_hours"] == 64
    assert record["remaining"] == 35500
    task = demo_client.post(
        "/api/v1/data/demo_task",
        {"title": "Search", "project": record["id"], "estimate_hours": 6},
        format="json",
    )
    assert task.status_code == 201, task.content
    again = demo_client.get(f"/api/v1/data/demo_project/{record['id']}").json()["record"]
    assert again["task_count"] == 3
    assert again["estimate_hours"] == 70


def test_cascade_and_restrict_on_delete(demo_client):
    project = demo_client.get("/api/v1/data/demo_project", {"name": "Contoso intranet"}).json()
    project_id = project["records"][0]["id"]
    customer = customer_id(demo_client, "Contoso Ltd")
    refused = demo_client.delete(f"/api/v1/data/demo_customer/{customer}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "CONFLICT"
    assert demo_client.get(f"/api/v1/data/demo_customer/{customer}").status_code == 200

    assert demo_client.delete(f"/api/v1/data/demo_project/{project_id}").status_code == 200
    tasks = demo_client.get("/api/v1/data/demo_task", {"project": project_id}).json()
    assert tasks["records"] == [] and tasks["total"] == 0


def test_autonumber_is_sequential_per_object(demo_client):
    customer = customer_id(demo_client, "Fabrikam")
    numbers = []
    for amount in (100, 200):
        response = demo_client.post(
            "/api/v1/data/demo_invoice", {"customer": customer, "amount": amount}, format="json"
        )
        assert response.status_code == 201, response.content
        numbers.append(response.json()["record"]["number"])
    year = numbers[0].split("-")[1]
    assert numbers == [f"INV-{year}-0002", f"INV-{year}-0003"]


def test_secret_is_masked_and_audit_redacted(demo_client):
    customer = customer_id(demo_client, "Fabrikam")
    response = demo_client.post(
        "/api/v1/data/demo_invoice",
        {"customer": customer, "amount": 5, "bank_reference": "DE89370400440532013000"},
        format="json",
    )
    assert response.status_code == 201, response.content
    shown = response.json()["record"]["bank_reference"]
    assert "DE8937" not in shown and shown.endswith("3000")
    event = AuditEvent.objects.get(action="create", record_id=response.json()["id"])
    assert ["bank_reference", None, "[redacted]"] in event.changes


def test_batch_create_update_delete_all_or_nothing(demo_client):
    created = demo_client.post(
        "/api/v1/data/demo_customer/createMany",
        {"records": [{"name": "A1"}, {"name": "A2"}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    ids = [r["id"] for r in created.json()["records"]]
    assert created.json()["count"] == 2

    failed = demo_client.post(
        "/api/v1/data/demo_customer/createMany",
        {"records": [{"name": "A3"}, {"tier": "nope"}]},
        format="json",
    )
    assert failed.status_code == 400
    body = failed.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert {f["field"] for f in body["fields"]} == {"records[1].tier", "records[1].name"}
    assert demo_client.get("/api/v1/data/demo_customer", {"name": "A3"}).json()["total"] == 0

    updated = demo_client.post(
        "/api/v1/data/demo_customer/updateMany",
        {"records": [{"id": i, "tier": "gold"} for i in ids]},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    assert [r["tier"] for r in updated.json()["records"]] == ["gold", "gold"]

    deleted = demo_client.post("/api/v1/data/demo_customer/deleteMany", {"ids": ids}, format="json")
    assert deleted.status_code == 200
    assert deleted.json() == {"object": "demo_customer", "ids": ids, "success": True, "count": 2}


def test_anonymous_is_refused(demo):
    client = factories.api_client(demo)
    response = client.get("/api/v1/data/demo_customer")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


def test_unknown_host_is_a_json_404(db):
    from rest_framework.test import APIClient

    response = APIClient(HTTP_HOST="nowhere.test").get("/api/v1/data/x")
    assert response.status_code == 404
    assert response.json() == {
        "error": "no project is served at host 'nowhere.test'",
        "code": "PROJECT_NOT_FOUND",
    }


def test_sign_in_token_and_api_key(demo, demo_admin):
    client = factories.token_client(demo, "admin@demo.test")
    assert client.get("/api/v1/data/demo_customer").status_code == 200
    bad = factories.api_client(demo)
    bad.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert bad.get("/api/v1/data/demo_customer").status_code == 401
    wrong = factories.api_client(demo).post(
        "/api/v1/auth/sign-in/email",
        {"email": "admin@demo.test", "password": "wrong"},
        format="json",
    )
    assert wrong.status_code == 401
    assert AuditEvent.objects.filter(action="auth.sign_in_failed", chain="demo").exists()


def test_fields_keep_artifact_order_and_formulas_see_unselected_fields(demo_client):
    record = demo_client.get("/api/v1/data/demo_project", {"name": "Northwind web shop"}).json()[
        "records"
    ][0]
    assert list(record)[6:] == [
        "name",
        "customer",
        "status",
        "budget",
        "spent",
        "start_date",
        "due_date",
        "description",
        "remaining",
        "task_count",
        "estimate_hours",
    ]
    selected = demo_client.get(
        "/api/v1/data/demo_project", {"name": "Northwind web shop", "select": "name,remaining"}
    )
    assert selected.json()["records"][0] == {
        "id": record["id"],
        "name": "Northwind web shop",
        "remaining": 35500,
    }


def test_session_cookie_from_sign_in_with_csrf(demo, demo_admin):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="demo.test", enforce_csrf_checks=True)
    signed_in = client.post(
        "/api/v1/auth/sign-in/email",
        {"email": "admin@demo.test", "password": factories.PASSWORD},
        format="json",
    )
    assert signed_in.status_code == 200
    assert client.get("/api/v1/data/demo_customer").status_code == 200
    refused = client.post("/api/v1/data/demo_customer", {"name": "No CSRF"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    token = client.cookies["csrftoken"].value
    created = client.post(
        "/api/v1/data/demo_customer", {"name": "With CSRF"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201
    assert client.post("/api/v1/auth/sign-out", HTTP_X_CSRFTOKEN=token).status_code == 200
    assert client.get("/api/v1/data/demo_customer").status_code == 401


def test_signed_out_token_is_refused_at_once(demo, demo_admin):
    client = factories.token_client(demo, "admin@demo.test")
    assert client.get("/api/v1/data/demo_customer").status_code == 200  # now cached
    assert client.post("/api/v1/auth/sign-out").status_code == 200
    response = client.get("/api/v1/data/demo_customer")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid or expired token", "code": "UNAUTHENTICATED"}
