"""The rules test app (rules_app.json), published once per session as project `rul`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import factories

APP = json.loads((Path(__file__).parent / "rules_app.json").read_text())
PLUGIN = "tests.automation.rules.plugin_rules"


@pytest.fixture(autouse=True)
def _rules_plugin(settings):
    """The test plugin is loaded into every kernel built during these tests."""
    current = getattr(settings, "OS_PLUGINS", "") or ""
    settings.OS_PLUGINS = ",".join(p for p in (current, PLUGIN) if p)


@pytest.fixture(scope="session")
def rul_session(publish_session):
    return publish_session("rul", APP)


@pytest.fixture
def rul(rul_session, db):
    rul_session.refresh_from_db()
    return rul_session


@pytest.fixture
def rul_admin(rul):
    return factories.make_user("admin@rul.test", rul, superuser=True)


@pytest.fixture
def admin_client(rul, rul_admin):
    return factories.api_client(rul, rul_admin)


def user_client(project, email: str, *sets: str):
    return factories.api_client(
        project, factories.make_user(email, project, permission_sets=list(sets))
    )


def create(client, **values):
    response = client.post("/api/v1/data/rul_ticket", values, format="json")
    assert response.status_code == 201, response.content
    return response.json()["record"]
