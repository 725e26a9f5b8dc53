"""`visibleWhen` re-evaluated for the values on screen: the form's visibility route
answers which rows and sections show, with the form's own access checks; a hidden
field's value is never written."""

from __future__ import annotations

from django.test import Client

from apps.audit.models import AuditEvent
from apps.objectql import query
from apps.objectql.params import QuerySpec
from tests.console.conftest import HOST, client_for, context_of


def shown(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_add_form_asks_with_the_typed_values(people, con):
    client = client_for(people["seller"])
    url = "/_console/o/con_deal/add/visibility/?form=default"
    body = shown(client.post(url, {"name": "x", "stage": "lost"}))
    assert body["fields"]["lost_reason"] is True
    assert body["fields"]["name"] is True
    assert body["sections"] == {"deal": True, "details": True}
    assert shown(client.post(url, {"stage": "new"}))["fields"]["lost_reason"] is False
    assert shown(client.post(url, {}))["fields"]["lost_reason"] is False
    assert "margin_note" not in shown(client.post(url, {}))["fields"]  # not readable: absent


def test_a_records_form_asks_with_its_record_under_the_typed_values(people, deals):
    client = client_for(people["seller"])
    url = f"/_console/o/con_deal/{deals['mid']}/visibility/"
    assert shown(client.post(url, {"stage": "lost"}))["fields"]["lost_reason"] is True
    assert shown(client.post(url, {"stage": "won"}))["fields"]["lost_reason"] is False


def test_the_route_checks_access_method_and_csrf(people, deals):
    seller = client_for(people["seller"])
    other = f"/_console/o/con_deal/{deals['others']}/visibility/"
    assert seller.post(other, {"stage": "lost"}).status_code == 404
    viewer = client_for(people["viewer"])
    assert viewer.post("/_console/o/con_deal/add/visibility/", {}).status_code == 403
    assert seller.get("/_console/o/con_deal/add/visibility/").status_code == 405
    anonymous = client_for()
    response = anonymous.post("/_console/o/con_deal/add/visibility/", {})
    assert response.status_code == 302 and "/_console/login/" in response["Location"]
    strict = Client(HTTP_HOST=HOST, enforce_csrf_checks=True)
    strict.force_login(people["seller"])
    assert strict.post("/_console/o/con_deal/add/visibility/", {}).status_code == 403
    strict.get("/_console/o/con_deal/add/")  # the form page sets the CSRF cookie
    token = strict.cookies["csrftoken"].value
    response = strict.post("/_console/o/con_deal/add/visibility/", {"stage": "lost"},
                           HTTP_X_CSRFTOKEN=token)  # fmt: skip
    assert shown(response)["fields"]["lost_reason"] is True


def test_a_hidden_fields_value_is_not_written(people, deals, con):
    client = client_for(people["seller"])
    response = client.post(f"/_console/o/con_deal/{deals['mid']}/", {
        "name": "Mid deal", "amount": "500", "stage": "won", "lost_reason": "typed, then hidden"})  # fmt: skip
    assert response.status_code == 302
    ctx = context_of(con, people["seller"])
    record = query.get_record(ctx, "con_deal", deals["mid"], QuerySpec(top=1))["record"]
    assert (record["stage"], record["lost_reason"]) == ("won", "price")
    update = AuditEvent.objects.get(action="update", record_id=deals["mid"])
    assert [c[0] for c in update.changes] == ["stage"]
