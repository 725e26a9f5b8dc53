"""/api/v1/jobs and /api/v1/workers: visibility, filters, retry, errors."""

from __future__ import annotations

import pytest

from apps.api.jobs import accepted
from apps.jobs import submit
from apps.jobs.runner import run_delivery
from tests import factories
from tests.jobs.conftest import add_worker, make_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(demo, demo_admin, member, as_worker):
    """A completed job of the member, a dead-lettered one of the admin, a queued system one."""
    as_worker("local")
    mine = submit(make_context(demo, member), "tests.jobs.tasks.whoami", {}, kind="test.ok")
    run_delivery(mine.id, "", 1)
    theirs = submit(
        make_context(demo, demo_admin), "tests.jobs.tasks.fail", {}, kind="test.bad",
        max_attempts=1,
    )  # fmt: skip
    run_delivery(theirs.id, "", 1)
    system = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="test.ok")
    for job in (mine, theirs, system):
        job.refresh_from_db()
    return {"mine": mine, "theirs": theirs, "system": system}


def ids(response) -> list[str]:
    return [record["id"] for record in response.json()["records"]]


def test_anonymous_is_refused(demo):
    client = factories.api_client(demo)
    for path in ("/api/v1/jobs", "/api/v1/workers", f"/api/v1/jobs/{'0' * 32}"):
        response = client.get(path)
        assert response.status_code == 401 and response.json()["code"] == "UNAUTHENTICATED"


def test_admin_sees_every_job_of_the_project(demo_client, jobs):
    response = demo_client.get("/api/v1/jobs")
    assert response.status_code == 200
    body = response.json()
    assert ids(response) == [jobs["system"].id, jobs["theirs"].id, jobs["mine"].id]
    assert (body["total"], body["hasMore"]) == (3, False)
    assert "events" not in body["records"][0]

    response = demo_client.get("/api/v1/jobs?status=failed")
    assert ids(response) == [jobs["theirs"].id]
    assert ids(demo_client.get("/api/v1/jobs?status=dead_letter")) == [jobs["theirs"].id]
    assert ids(demo_client.get("/api/v1/jobs?kind=test.bad")) == [jobs["theirs"].id]
    limited = demo_client.get("/api/v1/jobs?limit=1").json()
    assert (len(limited["records"]), limited["total"], limited["hasMore"]) == (1, 3, True)


def test_member_sees_only_own_jobs(demo, member, jobs):
    client = factories.api_client(demo, member)
    assert ids(client.get("/api/v1/jobs")) == [jobs["mine"].id]
    assert client.get(f"/api/v1/jobs/{jobs['mine'].id}").status_code == 200
    response = client.get(f"/api/v1/jobs/{jobs['theirs'].id}")
    assert response.status_code == 404
    assert response.json() == {"error": f"job {jobs['theirs'].id} not found", "code": "NOT_FOUND"}
    assert client.post(f"/api/v1/jobs/{jobs['theirs'].id}/retry").status_code == 404


def test_job_detail(demo_client, jobs):
    job = jobs["theirs"]
    body = demo_client.get(f"/api/v1/jobs/{job.id}").json()
    assert {k: body[k] for k in ("id", "kind", "status", "attempts", "max_attempts")} == {
        "id": job.id,
        "kind": "test.bad",
        "status": "failed",
        "attempts": 1,
        "max_attempts": 1,
    }
    assert (body["dead_letter"], body["result"], body["error"]) == (True, None, "ValueError: boom")
    assert [(e["status"], e["worker"], e["attempt"]) for e in body["events"]] == [
        ("submitted", None, 1),
        ("acknowledged", "local", 1),
        ("started", "local", 1),
        ("failed", "local", 1),
    ]
    assert body["events"][-1]["message"] == "dead-lettered after 1 attempt"
    assert body["finished_at"].endswith("Z") and "workers" not in body

    ok = demo_client.get(f"/api/v1/jobs/{jobs['mine'].id}").json()
    assert ok["status"] == "completed" and ok["result"]["worker"] == "local" and ok["error"] is None


def test_retry_answers_202_with_location(demo_client, jobs, django_capture_on_commit_callbacks):
    job = jobs["theirs"]
    with django_capture_on_commit_callbacks(execute=True):
        response = demo_client.post(f"/api/v1/jobs/{job.id}/retry")
    assert response.status_code == 202
    assert response.json() == {"job_id": job.id, "status": "submitted"}
    assert response["Location"] == f"/api/v1/jobs/{job.id}"
    job.refresh_from_db()
    assert (job.attempts, job.max_attempts, job.dead_letter) == (2, 2, False)

    again = demo_client.post(f"/api/v1/jobs/{job.id}/retry")
    assert again.status_code == 409
    assert again.json() == {
        "error": f"job {job.id} is submitted; only failed jobs are retried",
        "code": "CONFLICT",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=done", "status"), ("limit=x", "limit"), ("limit=0", "limit"), ("limit=501", "limit")],
)
def test_bad_list_parameters(demo_client, query, field):
    response = demo_client.get(f"/api/v1/jobs?{query}")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("INVALID_QUERY", field)


def test_unknown_job_is_404(demo_client):
    for job_id in ("0" * 32, "not-a-job"):
        response = demo_client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_workers_for_admins_only(demo, demo_client, member):
    add_worker("alpha", {"group": "web.dev"}, facts={"cpu_count": 2})
    add_worker("beta", age_seconds=60)
    response = demo_client.get("/api/v1/workers")
    assert response.status_code == 200
    records = response.json()["records"]
    assert [(w["name"], w["health"], w["labels"]) for w in records] == [
        ("alpha", "up", {"group": "web.dev"}),
        ("beta", "down", {}),
    ]
    assert records[0]["facts"] == {"cpu_count": 2} and records[1]["heartbeat_age_seconds"] >= 60

    refused = factories.api_client(demo, member).get("/api/v1/workers")
    assert refused.status_code == 403
    assert refused.json() == {"error": "only project admins may list workers", "code": "FORBIDDEN"}


def test_accepted_shape(demo):
    job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t")
    response = accepted(job)
    assert response.status_code == 202 and response["Location"] == f"/api/v1/jobs/{job.id}"
    assert response.data == {"job_id": job.id, "status": "submitted"}
