"""Actions from the Console (record header, list toolbar, bulk) and the jobs pages."""

from __future__ import annotations

import re

from apps.audit.models import AuditEvent
from apps.objectql import query
from apps.objectql.params import QuerySpec
from tests.console.conftest import client_for, context_of

MARK_LOST = "/_console/o/con_deal/actions/con_mark_lost/"


def stage_of(con, people, record_id: str) -> dict:
    record = query.get_record(
        context_of(con, people["admin"]), "con_deal", record_id, QuerySpec(top=1)
    )
    return {k: record["record"][k] for k in ("stage", "lost_reason")}


def test_record_header_shows_the_visible_actions(people, deals):
    client = client_for(people["seller"])
    html = client.get(f"/_console/o/con_deal/{deals['big']}/").content.decode()
    assert f'href="{MARK_LOST}?id={deals["big"]}" data-action="con_mark_lost"' in html
    html = client.get(f"/_console/o/con_deal/{deals['mid']}/").content.decode()  # already lost
    assert "con_mark_lost" not in html
    listing = client.get("/_console/o/con_deal/").content.decode()
    assert 'data-action="con_open_site"' in listing and 'class="button bulk-action"' in listing


def test_an_action_asks_with_its_confirm_text_and_params_then_runs(people, deals, con):
    client = client_for(people["seller"])
    html = client.get(f"{MARK_LOST}?id={deals['big']}").content.decode()
    assert "Mark this deal as lost?" in html and 'name="reason"' in html
    response = client.post(MARK_LOST, {"id": deals["big"], "run": "1", "reason": ""})
    assert response.status_code == 400
    assert re.search(r"field-reason errors.*?reason is required", response.content.decode(), re.S)
    assert stage_of(con, people, deals["big"]) == {"stage": "new", "lost_reason": None}
    response = client.post(MARK_LOST, {"id": deals["big"], "run": "1", "reason": "budget cut"})
    assert response.status_code == 200
    assert "Deal marked lost." in response.content.decode()
    assert stage_of(con, people, deals["big"]) == {"stage": "lost", "lost_reason": "budget cut"}
    assert AuditEvent.objects.filter(action="action.run", actor="seller@con.test").count() == 1


def test_bulk_action_runs_on_the_selection_and_scope_is_enforced(people, deals, con):
    client = client_for(people["seller"])
    confirm = client.post(MARK_LOST, {"ids": [deals["big"], deals["small"]]})
    assert confirm.status_code == 200 and "On 2 selected records" in confirm.content.decode()
    done = client.post(
        MARK_LOST, {"ids": [deals["big"], deals["small"]], "run": "1", "reason": "q4"}
    )
    assert done.status_code == 200
    assert stage_of(con, people, deals["small"]) == {"stage": "lost", "lost_reason": "q4"}
    refused = client.post(MARK_LOST, {"id": deals["others"], "run": "1", "reason": "x"})
    assert refused.status_code == 404
    assert stage_of(con, people, deals["others"])["stage"] == "new"
    assert client_for(people["viewer"]).get(MARK_LOST).status_code == 403


def test_url_action_shows_its_link(people, deals):
    client = client_for(people["seller"])
    response = client.post("/_console/o/con_deal/actions/con_open_site/", {"run": "1"})
    assert response.status_code == 200
    assert 'href="https://example.com/deals"' in response.content.decode()


def test_jobs_and_workers_pages_follow_the_jobs_rights(people, deals):
    seller = client_for(people["seller"])
    assert seller.get("/_console/platform/jobs/").status_code == 200
    assert seller.get("/_console/platform/workers/").status_code == 403
    assert seller.get("/_console/platform/jobs/nope/").status_code == 404
    manager = client_for(people["manager"])
    assert manager.get("/_console/platform/workers/").status_code == 200
    assert client_for(people["outsider"]).get("/_console/platform/jobs/").status_code == 403
