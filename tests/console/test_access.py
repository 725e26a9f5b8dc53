"""Every Console page answers 403/404 to people without the right, and shows a plain user
only the rows, fields and buttons the permission sets allow (through objectql)."""

from __future__ import annotations

import re

import pytest

from apps.objectql import query
from apps.objectql.params import QuerySpec
from tests.console.conftest import client_for, context_of

DEAL_PAGES = [
    "/_console/o/con_deal/",
    "/_console/o/con_deal/add/",
    "/_console/o/con_deal/autocomplete/?field=account",
]
PLATFORM_PAGES = [
    "/_console/platform/artifact/",
    "/_console/platform/versions/",
    "/_console/platform/versions/1/",
]


def record_pages(record_id: str) -> list[str]:
    return [f"/_console/o/con_deal/{record_id}/{suffix}" for suffix in ("", "delete/", "history/")]


def test_anonymous_is_sent_to_sign_in_everywhere(people, deals):
    client = client_for()
    for url in ["/_console/", *DEAL_PAGES, *record_pages(deals["big"]), *PLATFORM_PAGES,
                "/_console/platform/audit/"]:  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/_console/login/?next=/_console/"), url
    response = client.post(f"/_console/o/con_deal/{deals['big']}/delete/")
    assert response.status_code == 302


def test_a_user_outside_the_project_gets_403_everywhere(people, deals):
    client = client_for(people["outsider"])
    for url in ["/_console/", *DEAL_PAGES, *record_pages(deals["big"]), *PLATFORM_PAGES]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"not a member of this project" in response.content
    assert client.post(f"/_console/o/con_deal/{deals['big']}/delete/").status_code == 403


def test_an_object_without_read_right_is_403_on_every_page_and_absent_from_navigation(
    people, deals
):
    client = client_for(people["viewer"])
    home = client.get("/_console/").content.decode()
    assert 'data-object="con_account"' in home
    assert "con_deal" not in home
    for url in [*DEAL_PAGES, *record_pages(deals["big"])]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Big deal" not in response.content.decode()
    response = client.post("/_console/o/con_deal/add/", {"name": "sneaky", "amount": "1"})
    assert response.status_code == 403
    response = client.post(
        "/_console/o/con_deal/delete-selected/", {"ids": [deals["big"]], "confirm": "1"}
    )
    assert response.status_code == 403
    assert query.get_record(context_of(people["viewer"].os_memberships.first().project, people["admin"]),
                            "con_deal", deals["big"], QuerySpec(top=1))["record"]["name"] == "Big deal"  # fmt: skip


def test_platform_pages_are_403_without_the_manage_right(people, deals):
    client = client_for(people["seller"])
    for url in [*PLATFORM_PAGES, "/_console/platform/audit/"]:
        assert client.get(url).status_code == 403, url
    assert (
        client.post("/_console/platform/versions/1/decide/", {"decision": "rollback"}).status_code
        == 403
    )
    manager = client_for(people["manager"])
    for url in [*PLATFORM_PAGES, "/_console/platform/audit/"]:
        assert manager.get(url).status_code == 200, url


def test_another_users_record_is_404_by_raw_id_and_absent_from_the_list(people, deals):
    client = client_for(people["seller"])
    listing = client.get("/_console/o/con_deal/").content.decode()
    assert set(re.findall(r'<tr data-id="([0-9a-f]{32})"', listing)) == {
        deals["big"],
        deals["small"],
        deals["mid"],
    }
    assert "Other&#x27;s deal" not in listing
    for url in record_pages(deals["others"]):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Other" not in response.content.decode()
    assert (
        client.post(f"/_console/o/con_deal/{deals['others']}/", {"name": "taken"}).status_code
        == 404
    )
    assert client.post(f"/_console/o/con_deal/{deals['others']}/delete/").status_code == 404
    response = client.post("/_console/o/con_deal/delete-selected/", {"ids": [deals["others"]]})
    assert response.status_code == 404
    response = client.post(
        "/_console/o/con_deal/delete-selected/", {"ids": [deals["others"]], "confirm": "1"}
    )
    assert response.status_code == 404
    ctx = context_of(people["other"].os_memberships.first().project, people["admin"])
    assert (
        query.get_record(ctx, "con_deal", deals["others"], QuerySpec(top=1))["record"]["name"]
        == "Other's deal"
    )


def test_a_hidden_field_is_absent_from_list_form_history_and_cannot_be_written(people, deals, con):
    client = client_for(people["seller"])
    listing = client.get("/_console/o/con_deal/").content.decode()
    assert "column-margin_note" not in listing and "secret margin" not in listing
    form = client.get(f"/_console/o/con_deal/{deals['big']}/").content.decode()
    assert "margin_note" not in form and "secret margin" not in form
    history = client.get(f"/_console/o/con_deal/{deals['big']}/history/").content.decode()
    assert "secret margin" not in history and "margin_note" not in history.lower()
    assert "Big deal" in history  # the create row is there, with the fields it may read
    response = client.post(f"/_console/o/con_deal/{deals['big']}/",
                           {"name": "Big deal", "amount": "900", "stage": "new", "margin_note": "overwritten"})  # fmt: skip
    assert response.status_code == 302
    record = query.get_record(
        context_of(con, people["admin"]), "con_deal", deals["big"], QuerySpec(top=1)
    )
    assert record["record"]["margin_note"] == "secret margin 42%"
    admin_form = (
        client_for(people["admin"]).get(f"/_console/o/con_deal/{deals['big']}/").content.decode()
    )
    assert "secret margin 42%" in admin_form


def test_autocomplete_offers_only_readable_rows_and_refuses_other_fields(people, deals, con):
    client = client_for(people["seller"])
    response = client.get("/_console/o/con_deal/autocomplete/?field=account&term=acm")
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Acme"]
    for field in ("margin_note", "name", "nope"):
        response = client.get(f"/_console/o/con_deal/autocomplete/?field={field}")
        assert response.status_code == 404, field
        assert response.json()["code"] == "INVALID_FIELD"
    viewer = client_for(people["viewer"])
    assert viewer.get("/_console/o/con_deal/autocomplete/?field=account").status_code == 403


def test_buttons_follow_the_object_rights(people, deals):
    viewer = client_for(people["viewer"]).get("/_console/o/con_account/").content.decode()
    assert 'id="add-record"' not in viewer and 'id="delete-selected"' not in viewer
    assert client_for(people["viewer"]).get("/_console/o/con_account/add/").status_code == 403
    seller = client_for(people["seller"]).get("/_console/o/con_deal/").content.decode()
    assert 'id="add-record"' in seller and 'id="delete-selected"' in seller


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/login/", "/_console/admin/", "/_console/o/nope/"]
)
def test_no_other_admin_is_reachable(people, url):
    response = client_for(people["admin"]).get(url)
    assert response.status_code == 404
