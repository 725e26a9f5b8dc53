"""List and form pages driven by the artifact's views, in the reader's language."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.objectql import query
from apps.objectql.params import QuerySpec
from tests.console.conftest import client_for, context_of


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([0-9a-f]{32})"', html)


def test_list_uses_the_views_columns_sort_filter_search_and_pages(people, deals):
    client = client_for(people["seller"])
    html = client.get("/_console/o/con_deal/").content.decode()
    headers = re.findall(r'<th scope="col" class="column-(\w+)', html)
    assert headers == ["name", "stage", "amount", "account", "close_date"]  # margin_note hidden
    assert row_ids(html) == [deals["big"], deals["mid"], deals["small"]]  # sort: amount desc
    html = client.get("/_console/o/con_deal/?o=name").content.decode()
    assert row_ids(html) == [deals["big"], deals["mid"], deals["small"]]
    html = client.get("/_console/o/con_deal/?o=-name").content.decode()
    assert row_ids(html) == [deals["small"], deals["mid"], deals["big"]]
    html = client.get("/_console/o/con_deal/?f_stage=won").content.decode()
    assert row_ids(html) == [deals["small"]]
    html = client.get("/_console/o/con_deal/?q=big@x").content.decode()  # searchableFields: email
    assert row_ids(html) == [deals["big"]]
    html = client.get("/_console/o/con_deal/?view=open").content.decode()  # filter stage=new
    assert row_ids(html) == [deals["big"]]
    assert 'class="group-row"' in html  # grouped by account
    response = client.get("/_console/o/con_deal/?o=margin_note")
    assert response.status_code == 400
    assert "unknown field &#x27;margin_note&#x27;" in response.content.decode()
    assert client.get("/_console/o/con_deal/?p=x").status_code == 400


def test_list_pages_by_the_views_page_size(people, con):
    ctx = context_of(con, people["seller"])
    from apps.objectql import write

    for i in range(7):
        write.create_record(ctx, "con_deal", {"name": f"deal {i}", "amount": i})
    client = client_for(people["seller"])
    first = client.get("/_console/o/con_deal/").content.decode()
    second = client.get("/_console/o/con_deal/?p=2").content.decode()
    assert len(row_ids(first)) == 5 and len(row_ids(second)) == 2
    assert 'id="total">7 deals' in first
    assert '<span class="this-page">2</span>' in second


def test_kanban_view_shows_one_lane_per_stage(people, deals):
    html = client_for(people["seller"]).get("/_console/o/con_deal/?view=pipeline").content.decode()
    lanes = re.findall(r'<div class="lane"><h3>(\w+) <span class="count">(\d+)</span>', html)
    assert lanes == [("New", "1"), ("Won", "1"), ("Lost", "1")]


def test_labels_follow_the_readers_language(people, deals):
    client = client_for(people["seller"])
    html = client.get(
        "/_console/o/con_deal/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"
    ).content.decode()
    assert "<h1>Geschäfte</h1>" in html
    assert "Vertrieb" in html and ">Bezeichnung<" in html and "Gewonnen" in html
    assert "Alle Geschäfte" in html
    html = client.get("/_console/o/con_deal/?lang=en", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<h1>Deals</h1>" in html  # an explicit choice wins, and is remembered
    html = client.get("/_console/o/con_deal/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<h1>Deals</h1>" in html


def test_form_follows_the_form_view(people, deals):
    client = client_for(people["seller"])
    html = client.get(f"/_console/o/con_deal/{deals['mid']}/").content.decode()
    assert re.findall(r"<h2>(\w+)</h2>", html) == ["Deal", "Details"]
    assert "section-cols-2" in html
    assert 'for="id_amount" class="required"' in html  # required by the view
    assert 'data-field="lost_reason">' in html  # visibleWhen stage == 'lost': shown
    assert (
        'data-visibility-url="/_console/o/con_deal/' + deals["mid"] + '/visibility/?form=default"'
        in html
    )
    html = client.get(f"/_console/o/con_deal/{deals['big']}/").content.decode()
    assert 'data-field="lost_reason" hidden>' in html  # rendered, hidden until stage is lost
    assert 'type="date" name="close_date"' in html
    assert 'data-search-url="/_console/o/con_deal/autocomplete/?field=account"' in html


def test_create_shows_objectqls_errors_next_to_their_fields(people, con):
    client = client_for(people["seller"])
    response = client.post(
        "/_console/o/con_deal/add/", {"name": "", "email": "not-an-email", "amount": "12"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    name_row = re.search(r'<div class="form-row field-name errors".*?</div>', html, re.S).group(0)
    assert "name is required" in name_row
    assert "field-email errors" in html
    response = client.post("/_console/o/con_deal/add/", {"name": "x", "amount": ""})
    assert "field-amount errors" in response.content.decode()  # required by the view
    response = client.post("/_console/o/con_deal/add/", {"name": "x", "amount": "abc"})
    assert "Enter a number." in response.content.decode()
    response = client.post(
        "/_console/o/con_deal/add/", {"name": "x", "amount": "5", "extra": "{bad"}
    )
    assert "Enter valid JSON" in response.content.decode()
    assert (
        query.list_records(context_of(con, people["seller"]), "con_deal", QuerySpec(top=5))["total"]
        == 0
    )


def test_create_edit_and_delete_write_through_objectql(people, con):
    client = client_for(people["seller"])
    account = query.list_records(context_of(con, people["seller"]), "con_account",
                                 QuerySpec(top=1, filters=[{"name": "Acme"}]))["records"][0]["id"]  # fmt: skip
    response = client.post("/_console/o/con_deal/add/", {
        "name": "Fresh", "amount": "1250.50", "stage": "new", "close_date": "2027-03-01",
        "account": account, "urgent": "on", "tags": "a, b", "extra": '{"k": 1}',
        "summary": '<p>ok</p><script>alert(1)</script>'})  # fmt: skip
    assert response.status_code == 302
    record_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    ctx = context_of(con, people["seller"])
    record = query.get_record(ctx, "con_deal", record_id, QuerySpec(top=1))["record"]
    assert {k: record[k] for k in ("name", "amount", "stage", "close_date", "account", "urgent",
                                   "tags", "extra", "summary")} == {
        "name": "Fresh", "amount": 1250.5, "stage": "new", "close_date": "2027-03-01",
        "account": account, "urgent": True, "tags": ["a", "b"], "extra": {"k": 1},
        "summary": "<p>ok</p>"}  # fmt: skip
    assert record["owner_id"] == people["seller"].pk
    response = client.post(f"/_console/o/con_deal/{record_id}/", {"name": "Fresher", "amount": "1250.50",
                                                                  "stage": "won", "account": account,
                                                                  "close_date": "2027-03-01",
                                                                  "tags": "a, b", "extra": '{"k": 1}',
                                                                  "summary": "<p>ok</p>"})  # fmt: skip
    assert response.status_code == 302
    updates = AuditEvent.objects.filter(action="update", record_id=record_id)
    assert [sorted(c[0] for c in e.changes) for e in updates] == [["name", "stage", "urgent"]]
    response = client.post(f"/_console/o/con_deal/{record_id}/delete/")
    assert response.status_code == 302
    assert (
        AuditEvent.objects.filter(
            action="delete", record_id=record_id, actor="seller@con.test"
        ).count()
        == 1
    )
    assert client.get(f"/_console/o/con_deal/{record_id}/").status_code == 404


def test_bulk_delete_asks_then_deletes_all_selected(people, deals, con):
    client = client_for(people["seller"])
    ids = [deals["small"], deals["mid"]]
    confirm = client.post("/_console/o/con_deal/delete-selected/", {"ids": ids})
    assert confirm.status_code == 200 and "Small deal" in confirm.content.decode()
    done = client.post("/_console/o/con_deal/delete-selected/", {"ids": ids, "confirm": "1"})
    assert done.status_code == 302
    left = query.list_records(context_of(con, people["seller"]), "con_deal", QuerySpec(top=10))
    assert [r["id"] for r in left["records"]] == [deals["big"]]


def test_audit_trail_page_filters_and_names_bad_filters(people, deals):
    client = client_for(people["manager"])
    html = client.get(f"/_console/platform/audit/?record={deals['big']}").content.decode()
    assert html.count("<td>update</td>") == 1 and html.count("<td>create</td>") == 1
    response = client.get("/_console/platform/audit/?since=yesterday")
    assert response.status_code == 400
    assert 'data-field="since"' in response.content.decode()


def test_a_refused_upload_leaves_no_half_created_record(people, con):
    """The record and its files are saved together: an upload refused after the record was
    written (too large for the field's maxSize of 64 bytes) leaves no account behind."""
    client = client_for(people["manager"])
    big = SimpleUploadedFile("logo.txt", b"x" * 65, content_type="text/plain")
    response = client.post("/_console/o/con_account/add/", {"name": "Halfway", "logo": big})
    assert response.status_code == 400
    assert "field-logo errors" in response.content.decode()
    found = query.list_records(context_of(con, people["manager"]), "con_account",
                               QuerySpec(top=5, filters=[{"name": "Halfway"}]))  # fmt: skip
    assert found["total"] == 0
    small = SimpleUploadedFile("logo.txt", b"x" * 64, content_type="text/plain")
    response = client.post("/_console/o/con_account/add/", {"name": "Whole", "logo": small})
    assert response.status_code == 302
    whole = query.list_records(context_of(con, people["manager"]), "con_account",
                               QuerySpec(top=5, filters=[{"name": "Whole"}]))["records"]  # fmt: skip
    assert [(r["name"], r["logo"]["name"], r["logo"]["size"]) for r in whole] == [
        ("Whole", "logo.txt", 64)
    ]
