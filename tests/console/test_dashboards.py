"""Navigation entries beyond objects (dashboards, pages, outside links, data slices),
dashboards computed with the reader's security, and the calendar, gallery and chart
list views."""

from __future__ import annotations

import re

from apps.objectql import write
from tests.console.conftest import client_for, context_of


def widgets(html: str) -> dict[str, dict]:
    """Each widget's problem, metric value or table rows, by widget id."""
    found = {}
    for wid, body in re.findall(
        r'<section class="module widget[^"]*" data-widget="(\w+)">(.*?)</section>', html, re.S
    ):
        problem = re.search(r'<p class="widget-problem">(.*?)</p>', body)
        metric = re.search(r'<p class="metric-value">(.*?)</p>', body)
        rows = [
            re.findall(r"<td>(.*?)</td>", row)
            for row in re.findall(r"<tr>(<td>.*?)</tr>", body, re.S)
        ]
        found[wid] = {"problem": problem and problem[1], "value": metric and metric[1],
                      "rows": rows}  # fmt: skip
    return found


def test_navigation_links_dashboards_pages_urls_and_slices(people):
    html = client_for(people["seller"]).get("/_console/").content.decode()
    assert (
        '<a href="/_console/dashboards/con_dashboard/" data-nav="dashboard">Dashboard</a>' in html
    )
    assert '<a href="/_console/pages/con_welcome/" data-nav="page">Welcome</a>' in html
    assert ('<a href="https://help.example.com/sales" data-nav="url" target="_blank" '
            'rel="noopener noreferrer">Help</a>') in html  # fmt: skip
    assert 'href="/_console/o/con_deal/?nav=con_app.nav_won" data-object="con_deal"' in html
    assert "javascript:" not in html and "Bad link" not in html
    assert "Missing dashboard" not in html


def test_a_jsx_page_says_it_cannot_run_here(people):
    client = client_for(people["seller"])
    response = client.get("/_console/pages/con_welcome/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Welcome page</h1>" in html
    assert "The page “Welcome page” cannot run here" in html
    assert client.get("/_console/pages/nothing/").status_code == 404
    assert client.get("/_console/dashboards/nothing/").status_code == 404


def test_dashboard_widgets_for_the_admin(people, deals):
    response = client_for(people["admin"]).get("/_console/dashboards/con_dashboard/")
    assert response.status_code == 200
    shown = widgets(response.content.decode())
    assert [shown[w]["value"] for w in ("deals", "open_amount", "win_rate", "noted")] == [
        "4", "1,200", "25.0%", "1"]  # fmt: skip
    assert shown["by_stage"]["rows"] == [["Lost", "1", "500"], ["New", "2", "1,200"],
                                         ["Won", "1", "100"]]  # fmt: skip
    assert shown["by_account"]["rows"] == [["–", "1,800"]]
    assert shown["by_month"]["rows"] == []
    assert shown["flow"]["problem"] == "The widget type &#x27;sankey&#x27; is not supported here."


def test_dashboard_widgets_count_only_what_the_reader_may_read(people, deals, con):
    ctx = context_of(con, people["admin"])
    acme = write.create_record(ctx, "con_account", {"name": "Initech"})["id"]
    write.update_record(
        ctx, "con_deal", deals["big"], {"account": acme, "close_date": "2026-11-03"}
    )
    shown = widgets(
        client_for(people["seller"]).get("/_console/dashboards/con_dashboard/").content.decode()
    )
    assert [shown[w]["value"] for w in ("deals", "open_amount", "win_rate")] == [
        "3",
        "900",
        "33.3%",
    ]
    assert shown["noted"]["problem"] == "field &#x27;margin_note&#x27; cannot be read"
    assert shown["by_stage"]["rows"] == [
        ["Lost", "1", "500"],
        ["New", "1", "900"],
        ["Won", "1", "100"],
    ]
    assert shown["by_account"]["rows"] == [["–", "600"], ["Initech", "900"]]
    viewer = widgets(
        client_for(people["viewer"]).get("/_console/dashboards/con_dashboard/").content.decode()
    )
    assert {w["problem"] for w in viewer.values()} == {"You may not read Deals.",
        "The widget type &#x27;sankey&#x27; is not supported here."}  # fmt: skip


def test_a_navigation_slice_filters_the_list(people, deals):
    client = client_for(people["seller"])
    html = client.get("/_console/o/con_deal/?nav=con_app.nav_won").content.decode()
    assert re.findall(r'<tr data-id="(\w+)"', html) == [deals["small"]]
    assert client.get("/_console/o/con_deal/?nav=con_app.nothing").status_code == 400


def test_calendar_view_places_records_on_their_day(people, deals, con):
    ctx = context_of(con, people["admin"])
    write.update_record(ctx, "con_deal", deals["big"], {"close_date": "2027-03-05"})
    write.update_record(ctx, "con_deal", deals["small"], {"close_date": "2027-03-31"})
    write.update_record(ctx, "con_deal", deals["mid"], {"close_date": "2027-04-01"})
    write.update_record(ctx, "con_deal", deals["others"], {"close_date": "2027-03-05"})
    client = client_for(people["seller"])
    html = client.get("/_console/o/con_deal/?view=calendar&m=2027-03").content.decode()
    assert '<strong id="month-label">March 2027</strong>' in html
    days = dict(re.findall(r'<td class="day[^"]*" data-date="([\d-]+)">(.*?)</td>', html, re.S))
    assert min(days) == "2027-03-01" and max(days) == "2027-04-04"  # Monday to Sunday weeks
    events = {d: re.findall(r'class="event" href="(\w+)/"', cell) for d, cell in days.items()}
    assert {d: e for d, e in events.items() if e} == {"2027-03-05": [deals["big"]],
                                                      "2027-03-31": [deals["small"]]}  # fmt: skip
    assert 'href="?view=calendar&amp;m=2027-04" id="month-next"' in html
    assert client.get("/_console/o/con_deal/?view=calendar&m=2027-13").status_code == 400


def test_gallery_timeline_and_chart_views(people, deals):
    client = client_for(people["seller"])
    html = client.get("/_console/o/con_deal/?view=cards").content.decode()
    cards = re.findall(
        r'<a class="card gallery-card" href="(\w+)/".*?card-title">(.*?)</div>', html, re.S
    )
    assert sorted(name for _, name in cards) == ["Big deal", "Mid deal", "Small deal"]
    html = client.get("/_console/o/con_deal/?view=timeline").content.decode()
    assert "The timeline view is shown as a grid here." in html
    assert len(re.findall(r'<tr data-id="', html)) == 3
    html = client.get("/_console/o/con_deal/?view=by_stage").content.decode()
    assert widgets(html)["by_stage"]["rows"] == [["Lost", "1", "500"], ["New", "1", "900"],
                                                 ["Won", "1", "100"]]  # fmt: skip
