"""GET /api/v1/security/explain tells an admin why a user can or cannot see a record."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_explain_a_private_invoice_for_a_member_and_for_finance(demo, demo_client):
    member = factories.make_user("member@demo.test", demo, permission_sets=["desk_member"])
    finance = factories.make_user(
        "finance@demo.test", demo, permission_sets=["desk_finance"], positions=["finance"]
    )
    invoice = demo_client.get("/api/v1/data/demo_invoice").json()["records"][0]["id"]

    body = demo_client.get(
        "/api/v1/security/explain",
        {"object": "demo_invoice", "id": invoice, "user": "member@demo.test"},
    ).json()
    assert body["user"] == {"id": member.pk, "email": "member@demo.test", "superuser": False}
    assert body["permissionSets"] == ["desk_member"]
    assert body["objectPermissions"] == {
        "read": True,
        "create": True,
        "edit": False,
        "delete": False,
        "transfer": False,
    }
    assert "bank_reference" in body["fields"]["hidden"]
    assert body["reasons"] == ["permission set desk_member", "sharingModel private"]
    assert body["record"] == {
        "id": invoice,
        "exists": True,
        "ownerId": None,
        "isOwner": False,
        "canRead": False,
        "canEdit": False,
        "canDelete": False,
    }

    body = demo_client.get(
        "/api/v1/security/explain",
        {"object": "demo_invoice", "id": invoice, "user": str(finance.pk)},
    ).json()
    assert body["positions"] == ["finance"]
    assert body["record"]["canRead"] is True and body["record"]["canDelete"] is True
    assert "bank_reference" in body["fields"]["editable"]
    assert "modifyAllRecords" in body["reasons"]


def test_explain_is_for_admins_only(demo):
    member = factories.make_user("member@demo.test", demo, permission_sets=["desk_member"])
    response = factories.api_client(demo, member).get(
        "/api/v1/security/explain", {"object": "demo_invoice"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "params,field", [({}, "object"), ({"object": "demo_invoice", "user": "nobody@x"}, "user")]
)
def test_explain_bad_parameters(demo_client, params, field):
    response = demo_client.get("/api/v1/security/explain", params)
    assert response.status_code == 400
    assert response.json()["field"] == field
