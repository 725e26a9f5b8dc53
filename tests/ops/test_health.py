"""/healthz and /readyz: exact bodies, the four checks, and each check failing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, override_settings

from apps.kernel.cache import kernels
from apps.ops import health
from apps.projects.models import AppVersion, Project

pytestmark = pytest.mark.django_db
# The default broker, whatever OS_QUEUE_URL the suite runs with.
ORM_BROKER = {"name": "objectos", "orm": "default"}


def published_count() -> int:
    return Project.objects.filter(published_version__isnull=False).count()


def test_healthz_is_alive_without_a_project_or_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST="nowhere.test").get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["Content-Type"] == "application/json"


@override_settings(Q_CLUSTER=ORM_BROKER)
def test_readyz_reports_each_check(demo):
    response = Client(HTTP_HOST="nowhere.test").get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {
            "database": {"status": "ok", "vendor": connection.vendor},
            "migrations": {"status": "ok"},
            "kernels": {"status": "ok", "projects": published_count()},
            "broker": {"status": "ok", "broker": "orm"},
            "boot": {"status": "ok", "mode": "standalone"},
        },
    }
    # readiness builds the kernels it checks into the cache while it has room
    assert kernels.contains("demo", demo.published_version_id)


def test_readyz_is_cheap_once_warm(demo, django_assert_max_num_queries):
    client = Client()
    assert client.get("/readyz").status_code == 200
    # SELECT 1 (plus SET LOCAL and a savepoint on PostgreSQL) and the published projects
    with django_assert_max_num_queries(5):
        assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_a_published_kernel_cannot_be_built(demo):
    project = Project.objects.create(name="opsbroken")
    version = AppVersion.objects.create(
        project=project,
        number=1,
        source='{"manifest": {"id": "opsbroken"}, "objects": [{"name": 3}]}',
        sha256="0" * 64,
        status=AppVersion.Status.PUBLISHED,
    )
    project.published_version = version
    project.save()

    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["kernels"]["status"] == "failed"
    assert body["checks"]["kernels"]["reason"] == "1 kernels cannot be built"
    assert [p.split(":")[0] for p in body["checks"]["kernels"]["projects"]] == ["opsbroken"]
    assert body["checks"]["database"]["status"] == "ok"


def test_readyz_reports_unapplied_migrations(db, monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    row = recorder.migration_qs.get(app="os_projects", name="0001_initial")
    row.delete()  # rolled back with the test's transaction
    response = Client().get("/readyz")
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations["status"] == "failed"
    assert migrations["reason"].endswith("unapplied migrations")
    assert "os_projects.0001_initial" in migrations["unapplied"]
    assert health._migrations_applied is False


def test_readyz_pings_redis_when_it_is_the_broker(db):
    dead = {"name": "objectos", "redis": "redis://127.0.0.1:1/0"}
    with override_settings(Q_CLUSTER=dead):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "failed",
        "reason": "redis unreachable (ConnectionError)",
        "broker": "redis",
    }


def test_readyz_with_a_live_redis_broker(db):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    with override_settings(Q_CLUSTER={"name": "objectos", "redis": "redis://127.0.0.1:6379/0"}):
        response = Client().get("/readyz")
    assert response.json()["checks"]["broker"] == {"status": "ok", "broker": "redis"}


def test_health_routes_take_only_safe_methods(db):
    assert Client().post("/readyz").status_code == 405
    assert Client().post("/healthz").status_code == 405
