"""The flows test app (app.py), published once per session as project `flw`."""

from __future__ import annotations

import pytest

from apps.projects.context import Context, new_request_id
from tests import factories
from tests.automation.flows.app import artifact

PLUGIN = "tests.automation.flows.plugin_flows"


@pytest.fixture(autouse=True)
def _flows_plugin(settings):
    """The test plugin is loaded into every kernel built during these tests."""
    current = getattr(settings, "OS_PLUGINS", "") or ""
    if PLUGIN not in current:
        settings.OS_PLUGINS = ",".join(p for p in (current, PLUGIN) if p)


@pytest.fixture(scope="session")
def flw_session(publish_session):
    return publish_session("flw", artifact())


@pytest.fixture
def flw(flw_session, db):
    flw_session.refresh_from_db()
    return flw_session


@pytest.fixture
def flw_admin(flw):
    return factories.make_user("admin@flw.test", flw, superuser=True)


@pytest.fixture
def member(flw):
    return factories.make_user("member@flw.test", flw, permission_sets=["flw_member"])


@pytest.fixture
def member_client(flw, member):
    return factories.api_client(flw, member)


@pytest.fixture
def admin_client(flw, flw_admin):
    return factories.api_client(flw, flw_admin)


def context(project, user=None, *, system: bool = False) -> Context:
    from apps.kernel.cache import kernels

    return Context(
        request_id=new_request_id(),
        project_id=project.pk,
        project_name=project.name,
        kernel=kernels.get_version(project.name, project.published_version_id),
        user=user,
        is_system=system,
    )
