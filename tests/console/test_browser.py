"""The Console in a real browser: Playwright drives Debian's chromium (headless, no
sandbox, no background networking) against a real gunicorn server on the test database.

Screenshots of the main pages go to test-output/console/ (ignored by git). Skips with the
reason when chromium or Playwright is missing (`make test` installs both)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from apps.ops import serve
from tests import factories
from tests.console.conftest import console_artifact, context_of
from tests.schema.test_live_reload import database_url, free_port

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "console"
CHROMIUM = os.environ.get("OS_CHROMIUM", "/usr/bin/chromium")
HOST = "web.test"
PROJECT = "web"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
]  # fmt: skip

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn serving project `web` (the Console test artifact) with its people."""
    tmp = tmp_path_factory.mktemp("console-web")
    with django_db_blocker.unblock():
        project = factories.publish_artifact(PROJECT, console_artifact(), hosts=[HOST])
        people = {
            "admin": factories.make_user("admin@web.test", project, superuser=True),
            "seller": factories.make_user(
                "seller@web.test", project, permission_sets=["con_seller"]
            ),
            "other": factories.make_user("other@web.test", project, permission_sets=["con_seller"]),
        }
        from apps.objectql import write

        def deal(owner: str, **values) -> str:
            ctx = context_of(project, people[owner])
            return write.create_record(ctx, "con_deal", values)["id"]

        ids = {
            "alpha": deal("seller", name="Alpha rollout", amount=700, stage="new"),
            "beta": deal("seller", name="Beta renewal", amount=200, stage="won"),
            "gamma": deal("seller", name="Gamma pilot", amount=450, stage="new"),
            "others": deal("other", name="Other's secret deal", amount=999, stage="new"),
        }
        write.update_record(context_of(project, people["admin"]), "con_deal", ids["alpha"],
                            {"margin_note": "hidden margin 37%"})  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "OS_DATA_DIR": str(tmp),
        "OS_AUTH_SECRET": settings.SECRET_KEY,
        "OS_HOST_CACHE_TTL": "0.2",
        "OS_LOG_LEVEL": "ERROR",
    }
    env.pop("OS_ARTIFACT_FILE", None)
    env.pop("OS_CLOUD_URL", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=REPO, env=env,
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    log = open(tmp / "server.log", "wb")
    process = subprocess.Popen(
        serve.command(port),
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp / "server.log").read_text())
            time.sleep(0.1)
    try:
        yield {"base": f"http://{HOST}:{port}", "ids": ids, "log": tmp / "server.log",
               "blocker": django_db_blocker, "project": project}  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    """One chromium for the module, started after the server fixture has used the database
    (Playwright's sync API runs an event loop in this thread; Django refuses queries then)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server["base"], viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, csp


def sign_in(page, email: str) -> None:
    page.goto("/_console/")
    assert "/_console/login/" in page.url
    page.fill("#id_email", email)
    page.fill("#id_password", factories.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#nav-sidebar")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=True)


def names_in_list(page) -> list[str]:
    return page.locator("#result_list tbody th.field-first a").all_inner_texts()


@pytest.mark.django_db
def test_the_console_artifact_compiles_to_pages():
    """First in this module, and marked: pytest-django sets the test database up only for
    sessions holding a test that asks for it, and the server fixture needs it."""
    from apps.console.pages import compile_pages
    from apps.kernel.kernel import Kernel

    pages = compile_pages(Kernel.from_raw("check", 0, 0, console_artifact()))
    deals = pages["con_deal"]
    assert list(deals.lists) == ["all", "open", "pipeline", "calendar", "cards", "timeline",
                                 "by_stage"]  # fmt: skip
    assert deals.lists["all"].sort == ((("amount", True)),)
    assert deals.lists["all"].page_size == 5
    assert deals.lists["open"].filter == ["and", ["stage", "=", "new"]]
    assert deals.lists["pipeline"].kanban_field == "stage"
    assert [s.name for s in deals.form_view().sections] == ["deal", "details"]
    assert pages["con_account"].lists["default"].columns == ("name", "industry", "logo")


def test_sign_in_then_list_with_filter_and_sort(page):
    page.goto("/_console/")
    shot(page, "01-sign-in.png")
    page.fill("#id_email", "admin@web.test")
    page.fill("#id_password", "wrong")
    page.click("input[type=submit]")
    assert page.locator(".errornote").inner_text() == "Invalid email or password."
    sign_in(page, "admin@web.test")
    shot(page, "02-home.png")
    page.click("#nav-sidebar a[data-object=con_deal] >> nth=0")
    assert names_in_list(page) == [
        "Other's secret deal",
        "Alpha rollout",
        "Gamma pilot",
        "Beta renewal",
    ]
    shot(page, "03-list.png")
    page.click("a[data-filter='stage=new']")
    assert names_in_list(page) == ["Other's secret deal", "Alpha rollout", "Gamma pilot"]
    page.click("a[data-sort=name]")
    assert names_in_list(page) == ["Alpha rollout", "Gamma pilot", "Other's secret deal"]
    page.click("a[data-sort=name]")
    assert names_in_list(page) == ["Other's secret deal", "Gamma pilot", "Alpha rollout"]
    page.fill("#searchbar", "gamma")
    page.click("#changelist-search input[type=submit]")
    assert names_in_list(page) == ["Gamma pilot"]


def test_create_then_edit_with_a_validation_error_next_to_the_field(page, server):
    sign_in(page, "seller@web.test")
    page.goto("/_console/o/con_deal/add/")
    page.fill("#id_name", "Delta expansion")
    page.fill("#id_amount", "1234.5")
    page.select_option("#id_stage", "won")
    page.select_option("#id_account", label="Acme")
    page.fill("#id_close_date", "2027-05-31")
    page.fill("#id_summary", "<p>Signed <b>today</b></p><script>alert(1)</script>")
    shot(page, "04-add-form.png")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert page.locator("#id_name").input_value() == "Delta expansion"
    record_url = page.url
    page.fill("#id_email", "not an email")
    page.fill("#id_name", "")
    page.click("input[name=_save]")
    email_errors = page.locator(".form-row.field-email .errorlist").inner_text()
    assert "email" in email_errors.lower()
    assert page.locator(".form-row.field-name .errorlist").inner_text() == "name is required"
    shot(page, "05-validation-error.png")
    page.fill("#id_name", "Delta expansion II")
    page.fill("#id_email", "delta@example.com")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert page.url == record_url
    page.goto("/_console/o/con_deal/")
    assert "Delta expansion II" in names_in_list(page)


def test_a_field_appears_when_another_field_changes_without_a_reload(page):
    sign_in(page, "seller@web.test")
    page.goto("/_console/o/con_deal/add/")
    reason = page.locator(".form-row[data-field=lost_reason]")
    assert reason.is_hidden()
    page.evaluate("window.notReloaded = true")
    page.select_option("#id_stage", "lost")
    reason.wait_for(state="visible")
    shot(page, "17-visible-when.png")
    page.select_option("#id_stage", "won")
    reason.wait_for(state="hidden")
    page.select_option("#id_stage", "lost")
    reason.wait_for(state="visible")
    page.fill("#id_lost_reason", "budget cut")
    assert page.evaluate("window.notReloaded") is True  # the same page all along


def test_dashboard_calendar_and_gallery_pages(page):
    sign_in(page, "admin@web.test")
    page.goto("/_console/o/con_deal/")
    total = page.locator("#total").inner_text().split()[0]  # other tests add and delete deals
    page.click("#nav-sidebar a[data-nav=dashboard]")
    page.wait_for_selector("#dashboard")
    assert page.locator("[data-widget=deals] .metric-value").inner_text() == total
    shot(page, "18-dashboard.png")
    page.goto("/_console/o/con_deal/?view=calendar")
    page.wait_for_selector("#calendar")
    shot(page, "19-calendar.png")
    page.goto("/_console/o/con_deal/?view=cards")
    assert page.locator("#gallery .gallery-card").count() == int(total)
    shot(page, "20-gallery.png")
    page.click("#nav-sidebar a[data-nav=page]")
    assert "cannot run here" in page.locator("#not-supported").inner_text()


def test_delete_a_record(page):
    sign_in(page, "seller@web.test")
    page.goto("/_console/o/con_deal/")
    page.click("text=Beta renewal")
    page.click("a.deletelink")
    shot(page, "06-delete-confirmation.png")
    page.click("#confirm-delete")
    page.wait_for_selector(".messagelist .success")
    assert "Beta renewal" not in names_in_list(page)


def test_a_plain_user_sees_neither_the_hidden_field_nor_another_users_row(page, server):
    sign_in(page, "seller@web.test")
    page.goto("/_console/o/con_deal/")
    names = names_in_list(page)
    assert "Other's secret deal" not in names and "Alpha rollout" in names
    headers = page.locator("#result_list thead").text_content()
    assert "Name" in headers and "Margin" not in headers
    page.click("text=Alpha rollout")
    assert page.locator("#record-form").count() == 1
    assert "hidden margin" not in page.content() and page.locator("#id_margin_note").count() == 0
    shot(page, "07-plain-user-form.png")
    response = page.goto(f"/_console/o/con_deal/{server['ids']['others']}/")
    assert response.status == 404
    assert "Other's secret deal" not in page.content()
    shot(page, "08-not-found.png")
    response = page.goto("/_console/platform/versions/")
    assert response.status == 403


def test_run_an_action_from_the_record_header(page):
    sign_in(page, "seller@web.test")
    page.goto("/_console/o/con_deal/")
    page.click("text=Gamma pilot")
    page.click("#record-actions a[data-action=con_mark_lost]")
    assert page.locator("#confirm-text").inner_text() == "Mark this deal as lost?"
    page.fill("#id_reason", "went with a competitor")
    shot(page, "15-action.png")
    page.click("#run-action")
    page.wait_for_selector("#action-result")
    assert "Deal marked lost." in page.locator(".messagelist").inner_text()
    page.goto("/_console/o/con_deal/?f_stage=lost")
    assert names_in_list(page) == ["Gamma pilot"]
    page.goto("/_console/platform/jobs/")
    shot(page, "16-jobs.png")


def test_kanban_and_translated_labels(page):
    sign_in(page, "admin@web.test")
    page.goto("/_console/o/con_deal/?view=pipeline")
    lanes = page.locator(".kanban .lane h3").all_inner_texts()
    assert [re.sub(r"\s+\d+$", "", lane) for lane in lanes] == ["New", "Won", "Lost"]
    shot(page, "09-kanban.png")
    page.click("a.locale[data-locale=de]")
    assert page.locator("h1").inner_text() == "Geschäfte"
    assert "Vertrieb" in page.locator("#nav-sidebar").text_content()
    shot(page, "10-german.png")
    page.goto("/_console/o/con_deal/?lang=en")
    assert page.locator("h1").inner_text() == "Deals"


def test_upload_and_approve_an_artifact_the_new_field_appears_without_restart(
    page, server, tmp_path
):
    v2 = copy.deepcopy(console_artifact())
    v2["manifest"]["version"] = "2.0.0"
    deal = next(o for o in v2["objects"] if o["name"] == "con_deal")
    deal["fields"]["region"] = {"type": "select", "label": "Region", "options": ["emea", "apac"]}
    all_view = v2["views"][0]["listViews"]["all"]
    all_view["columns"].append({"field": "region"})
    v2["views"][0]["formViews"]["default"]["sections"][0]["fields"].append({"field": "region"})
    path = tmp_path / "objectstack.json"
    path.write_text(json.dumps(v2))
    sign_in(page, "admin@web.test")
    page.goto("/_console/o/con_deal/")
    assert "Region" not in page.locator("#result_list thead").text_content()
    page.goto("/_console/platform/artifact/")
    page.set_input_files("#id_artifact", str(path))
    page.click("#upload-submit")
    page.wait_for_selector("#plan")
    assert page.locator("#version-status").inner_text() == "pending"
    plan = page.locator("#plan tbody").inner_text()
    assert "add field con_deal.region" in plan and "additive" in plan
    assert page.locator("#worst-risk").inner_text() == "additive"
    shot(page, "11-plan.png")
    page.click("#approve")
    page.wait_for_selector(".messagelist .success")
    assert page.locator("#version-status").inner_text() == "published"
    page.goto("/_console/platform/versions/")
    shot(page, "12-versions.png")
    page.goto("/_console/o/con_deal/")
    assert "Region" in page.locator("#result_list thead").text_content()
    page.click("text=Alpha rollout")
    page.select_option("#id_region", "emea")
    shot(page, "13-new-field-form.png")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert page.locator("#id_region").input_value() == "emea"


def test_audit_trail_page(page):
    sign_in(page, "admin@web.test")
    page.goto("/_console/platform/audit/?action=artifact.*")
    actions = page.locator("#audit tbody td:nth-child(3)").all_inner_texts()
    assert "artifact.publish" in actions and "artifact.load" in actions
    page.goto("/_console/platform/audit/?object=con_deal")
    shot(page, "14-audit.png")
    assert "create" in page.locator("#audit tbody").inner_text()
