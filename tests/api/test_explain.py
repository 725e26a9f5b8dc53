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


def test_a_position_brings_its_permission_sets(demo, demo_client):
    from io import StringIO

    from django.core.management import call_command

    from apps.security.principal import forget_memberships

    factories.make_user("pos@demo.test", demo, positions=["finance"])
    client = factories.api_client(demo, factories.make_user("pos@demo.test"))
    assert client.get("/api/v1/data/demo_invoice").status_code == 403
    out = StringIO()
    call_command("grant_position", "demo", "finance", "desk_finance", stdout=out)
    assert out.getvalue().strip() == "holders of finance get desk_finance in demo"
    forget_memberships()
    listed = client.get("/api/v1/data/demo_invoice")
    assert listed.status_code == 200 and listed.json()["total"] == 1
    body = demo_client.get(
        "/api/v1/security/explain", {"object": "demo_invoice", "user": "pos@demo.test"}
    ).json()
    assert body["permissionSets"] == ["desk_finance"]
    call_command("grant_position", "demo", "finance", "desk_finance", "--revoke", stdout=out)
    forget_memberships()
    assert client.get("/api/v1/data/demo_invoice").status_code == 403


@pytest.mark.parametrize(
    "args",
    [
        ("nope", "finance", "desk_finance"),
        ("demo", "astronaut", "desk_finance"),
        ("demo", "finance", "nope"),
    ],
)
def test_grant_position_refuses_unknown_names(demo, args):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("grant_position", *args)
