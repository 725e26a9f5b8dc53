"""The audit tests' own artifact (tests/audit/audit_app.json), its users and clients."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from apps.security.principal import forget_memberships
from tests import factories

ARTIFACT = json.loads((Path(__file__).parent / "audit_app.json").read_text())
USER_AGENT = "audit-tests/1.0"


def audit_artifact() -> dict:
    return copy.deepcopy(ARTIFACT)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_memberships():
    """Rolled-back tests reuse user ids; a cached membership must not outlive its test."""
    forget_memberships()
    yield
    forget_memberships()


@pytest.fixture(scope="session")
def audit_session(publish_session):
    return publish_session("audit", audit_artifact())


@pytest.fixture(scope="session")
def other_session(publish_session):
    """The same app as a second project, for isolation."""
    return publish_session("auditother", audit_artifact())


@pytest.fixture(scope="session")
def default_audit_session(publish_session):
    """The app with a default permission set granting audit.read to every member."""
    raw = audit_artifact()
    raw["permissions"].append(
        {"name": "everyone_audits", "isDefault": True, "systemPermissions": ["audit.read"]}
    )
    return publish_session("auditdefault", raw)


@pytest.fixture
def project(audit_session, db):
    audit_session.refresh_from_db()
    return audit_session


@pytest.fixture
def other_project(other_session, db):
    other_session.refresh_from_db()
    return other_session


@pytest.fixture
def admin(project):
    return factories.make_user("admin@audit.test", project, superuser=True)


@pytest.fixture
def editor(project):
    """A plain member: may create and edit notes, has no audit permission."""
    return factories.make_user("editor@audit.test", project, permission_sets=["note_editor"])


def client_for(project, user=None, **headers):
    client = factories.api_client(project, user)
    client.defaults.update({"HTTP_USER_AGENT": USER_AGENT, **headers})
    return client


@pytest.fixture
def admin_client(project, admin):
    return client_for(project, admin)


@pytest.fixture
def editor_client(project, editor):
    return client_for(project, editor)
