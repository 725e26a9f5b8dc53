"""The Console over the real protocol-17 artifacts of ../shared/artifacts: every page a
superuser can open answers 200 and renders without a template error.

For each artifact that publishes: the home page, every object's list page in every list
view it declares (grid, kanban, calendar, gallery, ...), the add form and a seeded
record's change form in every form view, its history, the dashboards and pages the
navigation names, and the audit and version pages. Templates render with
`string_if_invalid` set, so a missing variable shows up as a failure, not a blank.
"""

from __future__ import annotations

import copy
import re

import pytest
from django.test import Client

from apps.console.site import site_for
from apps.kernel.cache import kernels
from apps.objectql import query
from apps.objectql.params import QuerySpec
from tests import factories
from tests.conftest import SHARED_V17
from tests.console.conftest import context_of

pytestmark = pytest.mark.django_db
INVALID = "!!INVALID:%s!!"
NAV_LINK = re.compile(r'<a href="(/_console/[^"]+)"[^>]* data-nav=')
ACTION_LINK = re.compile(r'href="(/_console/[^"]*actions/[^"]+)"')


@pytest.fixture(scope="session", params=list(SHARED_V17))
def published(request, shared_session):
    """(name, project) for each shared v17 artifact, published before any test transaction."""
    return request.param, shared_session(request.param)


@pytest.fixture
def shared(published, db, settings):
    """(name, project, superuser, signed-in client), with templates that mark every
    missing variable."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = INVALID
    settings.TEMPLATES = templates
    name, project = published
    project.refresh_from_db()
    admin = factories.make_user(f"admin@{name}.test", project, superuser=True)
    client = Client(HTTP_HOST=f"{name}.test")
    client.force_login(admin)
    return name, project, admin, client


def fetch(client: Client, url: str) -> str:
    response = client.get(url)
    body = response.content.decode()
    message = re.search(r'<p class="errornote"[^>]*>(.*?)</p>', body, re.S)
    assert response.status_code == 200, (url, response.status_code, message and message[1])
    invalid = re.findall(r"!!INVALID:([^!]*)!!", body)
    assert not invalid, (url, sorted(set(invalid)))
    assert "Traceback" not in body, url
    return body


def test_every_console_page_of_the_artifact_renders(shared):
    name, project, admin, client = shared
    kernel = kernels.get_version(project.name, project.published_version_id)
    site = site_for(kernel)
    ctx = context_of(project, admin)
    home = fetch(client, "/_console/")
    for url in sorted(set(NAV_LINK.findall(home))):  # objects, slices, dashboards, pages
        fetch(client, url.replace("&amp;", "&"))
    opened = 0
    actions: set[str] = set()
    for object_name, pages in site.pages.items():
        base = f"/_console/o/{object_name}/"
        actions.update(ACTION_LINK.findall(fetch(client, base)))
        for view_name in pages.lists:
            fetch(client, f"{base}?view={view_name}")
        for form_name in pages.forms:
            fetch(client, f"{base}add/?form={form_name}")
        records = query.list_records(ctx, object_name, QuerySpec(top=1, select=["id"]))
        for record in records["records"]:
            for form_name in pages.forms:
                html = fetch(client, f"{base}{record['id']}/?form={form_name}")
                actions.update(ACTION_LINK.findall(html))
            fetch(client, f"{base}{record['id']}/history/")
            opened += 1
    for url in ("/_console/platform/audit/", "/_console/platform/versions/",
                f"/_console/platform/versions/{project.published_version.number}/"):  # fmt: skip
        fetch(client, url)
    for url in sorted(actions):  # each action's confirm and parameter page
        fetch(client, url.replace("&amp;", "&"))
    if name != "blank":
        assert opened > 0  # the seeded artifacts have records to open


def test_a_blank_add_form_is_refused_with_field_errors_not_a_500(shared):
    name, project, admin, client = shared
    kernel = kernels.get_version(project.name, project.published_version_id)
    for object_name in kernel.objects:
        response = client.post(f"/_console/o/{object_name}/add/", {})
        assert response.status_code in (302, 400), (object_name, response.status_code)
