"""Shared fixtures: caches reset per test, published projects built once per session."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from apps.kernel.cache import kernels
from apps.projects import hosts
from apps.security.access import forget_compiled_access
from apps.security.authentication import credentials
from apps.security.principal import forget_memberships
from tests import factories

_published: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _fresh_caches():
    hosts.invalidate()
    credentials.clear()
    forget_memberships()
    forget_compiled_access()
    cache.clear()
    yield
    hosts.invalidate()
    credentials.clear()
    forget_memberships()
    forget_compiled_access()
    kernels.clear()


def _uses_transactions(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )


@pytest.fixture(autouse=True)
def _drop_tables_created_by_test(request):
    """Transactional tests commit their DDL; the flush after them only empties Django's own
    tables, so drop the project tables such a test created."""
    if not _uses_transactions(request):
        yield
        return
    from django.db import connection

    before = set(connection.introspection.table_names())
    yield
    created = set(connection.introspection.table_names()) - before
    # rows of the dropped tables may reference each other: no FK checks while dropping
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for table in created:
            cursor.execute(
                f'DROP TABLE IF EXISTS "{table}" CASCADE'
                if connection.vendor == "postgresql"
                else f'DROP TABLE IF EXISTS "{table}"'
            )


def publish_once(django_db_blocker, name: str, raw: dict[str, Any]):
    """Publish `raw` as project `name` once per session, outside any test transaction
    (schema changes cannot run inside one on SQLite). Tests using the `db` fixture
    roll their writes back; the tables and seed rows stay."""
    if name not in _published:
        with django_db_blocker.unblock():
            project = factories.publish_artifact(name, raw)
            factories.make_user(f"admin@{name}.test", project, superuser=True)
            _published[name] = project
    return _published[name]


@pytest.fixture(scope="session")
def demo_session(django_db_setup, django_db_blocker):
    return publish_once(django_db_blocker, "demo", factories.demo_artifact())


@pytest.fixture
def demo(demo_session, db):
    demo_session.refresh_from_db()
    return demo_session


@pytest.fixture
def demo_admin(demo):
    return factories.make_user("admin@demo.test", demo, superuser=True)


@pytest.fixture
def demo_client(demo, demo_admin):
    return factories.api_client(demo, demo_admin)


# Real protocol-17 artifacts from ../shared/artifacts, published once per session under
# these project names (served at <name>.test). Missing artifacts skip the tests using them.
SHARED_V17 = {
    "blank": "blank-starter-v17",
    "crm": "crm-minimal-v17",
    "todo": "todo-v17",
    "showcase": "showcase-v17",
}


@pytest.fixture(scope="session")
def publish_session(django_db_setup, django_db_blocker):
    """`publish(name, raw)`: publish an artifact once per session (see `publish_once`)."""

    def publish(name: str, raw: dict[str, Any]):
        return publish_once(django_db_blocker, name, raw)

    return publish


@pytest.fixture(scope="session")
def shared_session(publish_session):
    """`project(name)`: the SHARED_V17 artifact `name`, published once per session."""

    def project(name: str):
        return publish_session(name, factories.shared_artifact(SHARED_V17[name]))

    return project


@pytest.fixture(scope="session")
def crm_session(shared_session):
    return shared_session("crm")


@pytest.fixture
def crm(crm_session, db):
    crm_session.refresh_from_db()
    return crm_session


@pytest.fixture(scope="session")
def todo_session(shared_session):
    return shared_session("todo")


@pytest.fixture
def todo(todo_session, db):
    todo_session.refresh_from_db()
    return todo_session


@pytest.fixture
def crm_admin(crm):
    return factories.make_user("admin@crm.test", crm, superuser=True)


@pytest.fixture
def crm_client(crm, crm_admin):
    return factories.api_client(crm, crm_admin)


@pytest.fixture(scope="session")
def showcase_session(shared_session):
    return shared_session("showcase")


@pytest.fixture
def showcase(showcase_session, db):
    showcase_session.refresh_from_db()
    return showcase_session


@pytest.fixture
def showcase_admin(showcase):
    return factories.make_user("admin@showcase.test", showcase, superuser=True)


@pytest.fixture
def showcase_client(showcase, showcase_admin):
    return factories.api_client(showcase, showcase_admin)
