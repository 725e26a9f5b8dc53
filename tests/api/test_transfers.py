"""Exports and imports as jobs: exact files, the user's row and field rules, bad rows."""

from __future__ import annotations

import orjson
import pytest
from django.test import override_settings

from apps.jobs.models import Job
from apps.jobs.runner import run_delivery
from tests import factories

pytestmark = pytest.mark.django_db

ARTIFACT = {
    "manifest": {"id": "xfer.test", "namespace": "xfer", "version": "1.0.0"},
    "objects": [
        {
            "name": "xfer_deal",
            "sharingModel": "private",
            "fields": {
                "name": {"type": "text", "required": True, "maxLength": 20},
                "amount": {"type": "number"},
                "margin": {"type": "number"},
            },
        }
    ],
    "permissions": [
        {
            "name": "xfer_member",
            "objects": {
                "xfer_deal": {
                    "allowCreate": True,
                    "allowRead": True,
                    "allowEdit": True,
                    "allowDelete": True,
                }
            },
            "fields": {"xfer_deal.margin": {"readable": False, "editable": False}},
        }
    ],
}


@pytest.fixture(scope="session")
def xfer_session(publish_session):
    return publish_session("xfer", ARTIFACT)


@pytest.fixture
def xfer(xfer_session, db):
    xfer_session.refresh_from_db()
    return xfer_session


@pytest.fixture
def people(xfer):
    return {
        "admin": factories.make_user("admin@xfer.test", xfer, superuser=True),
        "ann": factories.make_user("ann@xfer.test", xfer, permission_sets=["xfer_member"]),
        "bob": factories.make_user("bob@xfer.test", xfer, permission_sets=["xfer_member"]),
    }


@pytest.fixture
def clients(xfer, people):
    return {name: factories.api_client(xfer, user) for name, user in people.items()}


@pytest.fixture
def deals(clients):
    """Two deals of ann, one of bob (margins set by the admin: members cannot)."""
    ids = {}
    for owner, name, amount in (("ann", "beta", 20), ("ann", "alpha", 10), ("bob", "gamma", 30)):
        response = clients[owner].post(
            "/api/v1/data/xfer_deal", {"name": name, "amount": amount}, format="json"
        )
        assert response.status_code == 201, response.content
        ids[name] = response.json()["id"]
        patched = clients["admin"].patch(
            f"/api/v1/data/xfer_deal/{ids[name]}", {"margin": amount / 10}, format="json"
        )
        assert patched.status_code == 200, patched.content
    return ids


def run_job(response) -> Job:
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert response["Location"] == f"/api/v1/jobs/{job_id}"
    assert run_delivery(job_id, "", 1) == "completed", Job.objects.get(pk=job_id).error
    return Job.objects.get(pk=job_id)


def download(client, job: Job):
    response = client.get(f"/api/v1/exports/{job.id}")
    content = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, content


def test_csv_export_of_a_plain_user_holds_only_their_rows(clients, deals):
    body = {"format": "csv", "select": ["name", "amount"], "sort": "name"}
    queued = clients["ann"].post("/api/v1/data/xfer_deal/export", body, format="json")
    not_ready = clients["ann"].get(f"/api/v1/exports/{queued.json()['job_id']}")
    assert not_ready.status_code == 409
    assert not_ready.json() == {
        "error": f"export {queued.json()['job_id']} is submitted; its file is not ready",
        "code": "NOT_READY",
    }
    job = run_job(clients["ann"].post("/api/v1/data/xfer_deal/export", body, format="json"))
    assert job.kind == "data.export" and job.queue == "default"
    assert job.result == {
        "rows": 2,
        "format": "csv",
        "object": "xfer_deal",
        "file": f"exports/xfer/{job.id}.csv",
        "download": f"/api/v1/exports/{job.id}",
    }
    response, content = download(clients["ann"], job)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="xfer_deal-{job.id}.csv"'
    assert content.decode() == (
        f"id,name,amount\n{deals['alpha']},alpha,10.0\n{deals['beta']},beta,20.0\n"
    )
    # the file is ann's: bob gets 404, the admin may fetch it
    refused = clients["bob"].get(f"/api/v1/exports/{job.id}")
    assert refused.status_code == 404
    assert refused.json() == {"error": f"export {job.id} not found", "code": "NOT_FOUND"}
    assert download(clients["admin"], job)[0].status_code == 200


def test_json_export_applies_field_rules_and_filters(clients, deals):
    body = {"format": "json", "filter": {"amount": {"$gte": 15}}}
    job = run_job(clients["ann"].post("/api/v1/data/xfer_deal/export", body, format="json"))
    records = orjson.loads(download(clients["ann"], job)[1])
    assert [r["name"] for r in records] == ["beta"]
    assert "margin" not in records[0]
    listed = clients["ann"].post("/api/v1/data/xfer_deal/query", body, format="json").json()
    assert records == listed["records"]

    job = run_job(clients["admin"].post("/api/v1/data/xfer_deal/export", body, format="json"))
    records = orjson.loads(download(clients["admin"], job)[1])
    assert sorted((r["name"], r["margin"]) for r in records) == [("beta", 2), ("gamma", 3)]


def test_bad_export_requests_are_refused_before_queueing(xfer, clients, deals):
    before = Job.objects.count()
    cases = [
        ({"select": ["margin"]}, 400, {"error": "unknown field 'margin'", "code": "INVALID_FIELD",
                                       "field": "margin"}),
        ({"format": "xml"}, 400, {"error": "format must be 'csv' or 'json'",
                                  "code": "VALIDATION_FAILED", "field": "format"}),
        ({"sort": "nope"}, 400, None),
        ({"filter": {"nope": 1}}, 400, None),
    ]  # fmt: skip
    for body, status, expected in cases:
        response = clients["ann"].post("/api/v1/data/xfer_deal/export", body, format="json")
        assert response.status_code == status, (body, response.content)
        assert response.json()["code"] in ("INVALID_FIELD", "INVALID_QUERY", "VALIDATION_FAILED")
        if expected is not None:
            assert response.json() == expected
    missing = clients["ann"].post("/api/v1/data/xfer_nothing/export", {}, format="json")
    assert missing.status_code == 404
    anonymous = factories.api_client(xfer).post("/api/v1/data/xfer_deal/export", {}, format="json")
    assert anonymous.status_code == 401
    assert Job.objects.count() == before


def test_json_import_with_a_bad_row_creates_the_good_chunks(clients, people):
    records = [{"name": f"n{i}", "amount": i} for i in range(1, 6)]
    records[3] = {"name": "x" * 30, "amount": "lots"}  # row 4: too long and not a number
    with override_settings(OS_MAX_BATCH_SIZE=2):
        job = run_job(
            clients["ann"].post(
                "/api/v1/data/xfer_deal/import", {"records": records}, format="json"
            )
        )
    assert job.kind == "data.import"
    result = job.result
    assert (result["created"], result["notCreated"], result["rows"]) == (3, 2, 5)
    assert len(result["failed"]) == 1 and result["failed"][0]["row"] == 4
    assert sorted(f["field"] for f in result["failed"][0]["fields"]) == ["amount", "name"]
    listed = clients["ann"].get("/api/v1/data/xfer_deal?sort=name").json()["records"]
    # chunks [1,2] and [5] were created, chunk [3,4] was not (all-or-nothing)
    assert [(r["name"], r["amount"], r["owner_id"]) for r in listed] == [
        ("n1", 1, people["ann"].pk),
        ("n2", 2, people["ann"].pk),
        ("n5", 5, people["ann"].pk),
    ]


def test_csv_import(clients, people):
    body = "name,amount\nc1,7\nc2,\n"
    job = run_job(
        clients["ann"].post(
            "/api/v1/data/xfer_deal/import", data=body.encode(), content_type="text/csv"
        )
    )
    assert job.result == {
        "object": "xfer_deal",
        "rows": 2,
        "created": 2,
        "notCreated": 0,
        "failed": [],
    }
    listed = clients["ann"].get("/api/v1/data/xfer_deal?sort=name").json()["records"]
    assert [(r["name"], r["amount"]) for r in listed] == [("c1", 7), ("c2", None)]


def test_bad_imports_are_refused_before_queueing(clients, xfer):
    before = Job.objects.count()
    post = clients["ann"].post
    response = post("/api/v1/data/xfer_deal/import", {"rows": []}, format="json")
    assert response.json() == {
        "error": "the body needs 'records'", "code": "VALIDATION_FAILED", "field": "records"
    }  # fmt: skip
    response = post("/api/v1/data/xfer_deal/import", {"records": [1]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "records[0] must be a JSON object"
    response = post("/api/v1/data/xfer_deal/import", data=b"", content_type="text/csv")
    assert response.status_code == 400
    with override_settings(OS_MAX_BODY_BYTES=10):
        response = post(
            "/api/v1/data/xfer_deal/import", data=b"name\n" + b"a\n" * 20, content_type="text/csv"
        )
    assert response.status_code == 413 and response.json()["code"] == "PAYLOAD_TOO_LARGE"
    outsider = factories.api_client(xfer, factories.make_user("out@xfer.test", xfer))
    response = outsider.post("/api/v1/data/xfer_deal/import", {"records": [{}]}, format="json")
    assert response.status_code == 403
    assert Job.objects.count() == before
