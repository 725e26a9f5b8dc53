"""A worker going down or coming back notifies each project's administrators."""

from __future__ import annotations

import copy

import pytest

from apps.automation.models import Notification
from apps.jobs import watch
from tests import factories
from tests.jobs.conftest import add_worker

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def ops_session(publish_session):
    raw = copy.deepcopy(factories.demo_artifact())
    raw["manifest"]["namespace"] = "ops"
    raw["permissions"].append(
        {"name": "ops_admin", "label": "Operations", "systemPermissions": ["setup.access"],
         "objects": {}}
    )  # fmt: skip
    return publish_session("opsalerts", raw)


@pytest.fixture
def people(ops_session, db):
    ops_session.refresh_from_db()
    return {
        "root": factories.make_user("root@ops.test", ops_session, superuser=True),
        "operator": factories.make_user(
            "operator@ops.test", ops_session, permission_sets=["ops_admin"]
        ),
        "member": factories.make_user(
            "member@ops.test", ops_session, permission_sets=["desk_member"]
        ),
    }


def notes(project_name: str) -> list[tuple[str, str, str, str]]:
    return list(
        Notification.objects.filter(project=project_name)
        .order_by("recipient__email", "id")
        .values_list("recipient__email", "severity", "topic", "title")
    )


def test_down_and_up_notify_superusers_and_setup_access_members(people):
    worker = add_worker("alpha", age_seconds=3600)
    assert watch.watch() == ["alpha"]
    # the member without setup.access hears nothing; the publisher is a superuser too
    assert notes("opsalerts") == [
        ("admin@opsalerts.test", "critical", "worker.down", "Worker alpha is down"),
        ("operator@ops.test", "critical", "worker.down", "Worker alpha is down"),
        ("root@ops.test", "critical", "worker.down", "Worker alpha is down"),
    ]
    Notification.objects.all().delete()
    worker.refresh_from_db()
    watch.worker_came_back(worker)
    assert notes("opsalerts") == [
        ("admin@opsalerts.test", "success", "worker.up", "Worker alpha is back"),
        ("operator@ops.test", "success", "worker.up", "Worker alpha is back"),
        ("root@ops.test", "success", "worker.up", "Worker alpha is back"),
    ]
