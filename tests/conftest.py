"""Shared fixtures: caches reset per test, published projects built once per session."""

from __future__ import annotations

from typing import Any

import pytest

from apps.kernel.cache import kernels
from apps.projects import hosts
from tests import factories

_published: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _fresh_caches():
    hosts.invalidate()
    yield
    hosts.invalidate()
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
    with connection.cursor() as cursor:
        for table in created:
            cursor.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE'
                           if connection.vendor == "postgresql" else f'DROP TABLE IF EXISTS "{table}"')


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
