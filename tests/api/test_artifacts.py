"""/api/v1/artifacts: versions, load with plan, approve and roll back as `schema` jobs."""

from __future__ import annotations

import copy

import pytest

from apps.audit.models import AuditEvent
from apps.jobs.models import Job
from apps.jobs.runner import run_delivery
from apps.projects.models import AppVersion, Project
from tests import factories
from tests.jobs import test_workers as worker_helpers
from tests.jobs.test_workers import wait_for_job, wait_until

# the real-worker fixtures of tests/jobs/test_workers.py, shared rather than copied
broker = worker_helpers.broker
workers = worker_helpers.workers

pytestmark = pytest.mark.django_db(transaction=True)

BASE = {
    "manifest": {"id": "artapi.test", "namespace": "artapi", "version": "1.0.0"},
    "objects": [{"name": "artapi_note", "fields": {"title": {"type": "text"}}}],
    "permissions": [{"name": "artapi_setup", "systemPermissions": ["setup.access"]}],
}


def with_body() -> dict:
    raw = copy.deepcopy(BASE)
    raw["objects"][0]["fields"]["body"] = {"type": "textarea"}
    return raw


@pytest.fixture
def project():
    return factories.publish_artifact("artapi", BASE)


@pytest.fixture
def admin(project):
    return factories.make_user("admin@artapi.test", project, superuser=True)


@pytest.fixture
def client(project, admin):
    return factories.api_client(project, admin)


def run_job(job_id: str) -> Job:
    assert run_delivery(job_id, "", 1) == "completed", Job.objects.get(pk=job_id).error
    return Job.objects.get(pk=job_id)


def actions(project: Project) -> list[tuple[str, dict]]:
    events = AuditEvent.objects.filter(action__startswith="artifact.").order_by("seq")
    return [(e.action, e.details) for e in events]


def test_anonymous_and_plain_users_are_refused(project):
    anonymous = factories.api_client(project)
    assert anonymous.get("/api/v1/artifacts").status_code == 401
    assert anonymous.post("/api/v1/artifacts/1/approve").status_code == 401
    member = factories.api_client(project, factories.make_user("m@artapi.test", project))
    for method, path in (
        ("get", "/api/v1/artifacts"),
        ("post", "/api/v1/artifacts"),
        ("get", "/api/v1/artifacts/1"),
        ("post", "/api/v1/artifacts/1/approve"),
        ("post", "/api/v1/artifacts/1/reject"),
        ("post", "/api/v1/artifacts/1/rollback"),
    ):
        response = getattr(member, method)(path, {}, format="json")
        assert response.status_code == 403, path
        assert response.json() == {
            "error": "only project admins may manage artifact versions",
            "code": "FORBIDDEN",
        }
    assert AppVersion.objects.filter(project=project).count() == 1


def test_a_member_with_setup_access_is_a_project_admin(project):
    user = factories.make_user("setup@artapi.test", project, permission_sets=["artapi_setup"])
    response = factories.api_client(project, user).get("/api/v1/artifacts")
    assert response.status_code == 200
    assert [v["number"] for v in response.json()["records"]] == [1]


def test_load_approve_in_a_job_and_serve_the_new_column(project, admin, client):
    listed = client.get("/api/v1/artifacts").json()["records"]
    assert [(v["number"], v["status"], v["current"]) for v in listed] == [(1, "published", True)]
    assert listed[0]["worstRisk"] == "additive" and listed[0]["published"] is not None

    response = client.post("/api/v1/artifacts", with_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["status"], body["current"]) == (2, "pending", False)
    assert body["plan"] == [
        {
            "kind": "add_field",
            "object": "artapi_note",
            "field": "body",
            "risk": "additive",
            "description": "add field artapi_note.body: add textarea field",
        }
    ]
    assert (body["worstRisk"], body["operations"], body["published"]) == ("additive", 1, None)
    assert client.get("/api/v1/artifacts/2").json()["plan"] == body["plan"]
    # loading it again while pending: the same version
    assert client.post("/api/v1/artifacts", with_body(), format="json").json()["number"] == 2

    response = client.post("/api/v1/artifacts/2/approve", {}, format="json")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert response["Location"] == f"/api/v1/jobs/{job_id}"
    job = Job.objects.get(pk=job_id)
    assert (job.queue, job.kind, job.kwargs) == (
        "schema",
        "artifact.approve",
        {"version": 2, "allow_destructive": False},
    )
    project.refresh_from_db()
    assert project.published_version.number == 1  # nothing applied before the worker runs

    job = run_job(job_id)
    assert job.result["version"] == 2 and job.result["worstRisk"] == "additive"
    project.refresh_from_db()
    assert project.published_version.number == 2
    created = client.post("/api/v1/data/artapi_note", {"title": "t", "body": "b"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["record"]["body"] == "b"
    assert actions(project)[-2:] == [
        ("artifact.load", {"version": 2, "sha256": AppVersion.objects.get(number=2).sha256,
                           "operations": 1}),
        ("artifact.publish", {"version": 2, "previous": 1, "operations": 1}),
    ]  # fmt: skip
    publish_row = AuditEvent.objects.get(action="artifact.publish", details__version=2)
    assert publish_row.actor_user_id == admin.pk

    # unchanged artifact: 200 saying so, no new version
    again = client.post("/api/v1/artifacts", with_body(), format="json")
    assert again.status_code == 200
    assert again.json()["unchanged"] is True and again.json()["version"]["number"] == 2

    # approving a published version again: 409, nothing queued
    conflict = client.post("/api/v1/artifacts/2/approve", {}, format="json")
    assert conflict.status_code == 409
    assert conflict.json() == {"error": "version 2 is published, not pending", "code": "CONFLICT"}


def test_destructive_approve_is_refused_at_once_and_rollback(project, client):
    assert client.post("/api/v1/artifacts", with_body(), format="json").status_code == 201
    run_job(client.post("/api/v1/artifacts/2/approve", format="json").json()["job_id"])
    jobs_before = Job.objects.count()

    # back to version 1 drops the column: refused without the flag, queued with it
    refused = client.post("/api/v1/artifacts/1/rollback", {}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "DESTRUCTIVE_PLAN"
    assert [(op["kind"], op["object"], op["field"]) for op in body["operations"]] == [
        ("drop_field", "artapi_note", "body")
    ]
    assert body["error"].startswith("rolling back to version 1 has destructive operations")
    assert Job.objects.count() == jobs_before

    # a new version without the field is destructive too
    loaded = client.post("/api/v1/artifacts", BASE | {"manifest": BASE["manifest"] | {
        "version": "1.1.0"}}, format="json")  # fmt: skip
    assert loaded.status_code == 201 and loaded.json()["worstRisk"] == "destructive"
    number = loaded.json()["number"]
    refused = client.post(f"/api/v1/artifacts/{number}/approve", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "DESTRUCTIVE_PLAN"
    assert Job.objects.count() == jobs_before
    bad_flag = client.post(
        f"/api/v1/artifacts/{number}/approve", {"allow_destructive": "yes"}, format="json"
    )
    assert bad_flag.status_code == 400
    assert bad_flag.json() == {
        "error": "allow_destructive must be true or false",
        "code": "VALIDATION_FAILED",
        "field": "allow_destructive",
    }

    rejected = client.post(f"/api/v1/artifacts/{number}/reject", format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert actions(project)[-1] == ("artifact.reject", {"version": number})

    rollback = client.post(
        "/api/v1/artifacts/1/rollback", {"allow_destructive": True}, format="json"
    )
    assert rollback.status_code == 202
    job = run_job(rollback.json()["job_id"])
    assert (job.queue, job.kind, job.result["version"]) == ("schema", "artifact.rollback", 1)
    project.refresh_from_db()
    assert project.published_version.number == 1
    assert actions(project)[-1] == ("artifact.rollback", {"version": 1, "previous": 2})
    missing = client.get("/api/v1/artifacts/99")
    assert missing.status_code == 404
    assert missing.json() == {"error": "project 'artapi' has no version 99", "code": "NOT_FOUND"}


def test_an_invalid_artifact_is_400_with_every_issue(project, client):
    raw = copy.deepcopy(BASE)
    raw["objects"][0]["fields"]["title"]["type"] = "nonsense"
    raw["objects"].append({"name": "Bad Name", "fields": {}})
    response = client.post("/api/v1/artifacts", raw, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ARTIFACT_INVALID"
    paths = [issue["path"] for issue in body["issues"]]
    assert "objects[0].fields.title.type" in paths
    assert any(path.startswith("objects[1]") for path in paths)
    assert body["field"] == paths[0]
    assert body["error"].startswith(f"artifact is invalid: {len(paths)} problem(s)")
    assert AppVersion.objects.filter(project=project).count() == 1
    not_object = client.post("/api/v1/artifacts", [1, 2], format="json")
    assert not_object.status_code == 400
    assert not_object.json()["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize("broker", ["orm"], indirect=True)
def test_a_real_worker_serving_default_and_schema_applies_an_approved_version(
    workers, project, client
):
    worker = workers("artapi-worker", queues="default,schema")
    assert client.post("/api/v1/artifacts", with_body(), format="json").status_code == 201
    response = client.post("/api/v1/artifacts/2/approve", {}, format="json")
    assert response.status_code == 202
    job = wait_for_job(
        Job.objects.get(pk=response.json()["job_id"]), ("completed", "failed"), [worker]
    )
    assert job.status == "completed", job.error
    assert job.result["version"] == 2
    project.refresh_from_db()
    assert project.published_version.number == 2
    status = client.get(f"/api/v1/jobs/{job.id}").json()
    assert (status["status"], status["result"]["version"]) == ("completed", 2)

    def create():  # this process sees the new version within OS_HOST_CACHE_TTL
        created = client.post(
            "/api/v1/data/artapi_note", {"title": "t", "body": "b"}, format="json"
        )
        return created if created.status_code == 201 else None

    created = wait_until(create, 10, "the new version to be served", [worker])
    assert created.json()["record"]["body"] == "b"
