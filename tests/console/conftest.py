"""The Console's test project `con` (tests/console/console_app.json at con.test) and its
people: a seller (sees only own deals, not margin_note), a second seller, a viewer (no
deals at all), a manager (setup.access, audit.read) and an outsider (no membership)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from apps.kernel.cache import kernels
from apps.objectql import write
from apps.projects.context import Context
from tests import factories
from tests.conftest import publish_once

ARTIFACT = Path(__file__).with_name("console_app.json")
HOST = "con.test"


def console_artifact() -> dict:
    return json.loads(ARTIFACT.read_text())


@pytest.fixture(scope="session")
def con_session(django_db_setup, django_db_blocker):
    return publish_once(django_db_blocker, "con", console_artifact())


@pytest.fixture
def con(con_session, db):
    con_session.refresh_from_db()
    return con_session


@pytest.fixture
def people(con):
    return {
        "admin": factories.make_user("admin@con.test", con, superuser=True),
        "seller": factories.make_user("seller@con.test", con, permission_sets=["con_seller"]),
        "other": factories.make_user("other@con.test", con, permission_sets=["con_seller"]),
        "viewer": factories.make_user("viewer@con.test", con, permission_sets=["con_viewer"]),
        "manager": factories.make_user("manager@con.test", con, permission_sets=["con_manager"]),
        "outsider": factories.make_user("outsider@con.test"),
    }


def context_of(project, user) -> Context:
    return Context(
        request_id="test",
        project_id=project.pk,
        project_name=project.name,
        kernel=kernels.get_version(project.name, project.published_version_id),
        user=user,
    )


@pytest.fixture
def deals(con, people):
    """Three deals of the seller (one with a margin note written by the admin) and one
    of the other seller."""

    def create(owner: str, **values) -> str:
        return write.create_record(context_of(con, people[owner]), "con_deal", values)["id"]

    made = {
        "big": create("seller", name="Big deal", amount=900, stage="new", email="big@x.test"),
        "small": create("seller", name="Small deal", amount=100, stage="won"),
        "mid": create("seller", name="Mid deal", amount=500, stage="lost", lost_reason="price"),
        "others": create("other", name="Other's deal", amount=300, stage="new"),
    }
    admin = context_of(con, people["admin"])
    write.update_record(admin, "con_deal", made["big"], {"margin_note": "secret margin 42%"})
    return made


def client_for(user=None) -> Client:
    client = Client(HTTP_HOST=HOST)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """People are made per test; a cheap hasher keeps that fast (the browser tests'
    server checks real hashes of people made outside this fixture)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
