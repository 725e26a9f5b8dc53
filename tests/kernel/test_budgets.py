"""Context budgets: queries, rows and wall time stop the branch that spends them, with
BUDGET_EXCEEDED naming the budget, and nothing else."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.kernel.budgets import Budget, BudgetExceeded, activate, project_budget
from apps.kernel.cache import kernels
from apps.kernel.kernel import Kernel
from apps.projects.context import Context
from apps.projects.models import Project
from apps.security.models import ApiKey, hash_secret
from tests import factories
from tests.kernel.plugins import runaway


def queries(n: int) -> None:
    for i in range(n):
        Project.objects.filter(pk=-i).exists()


@pytest.mark.django_db
def test_a_budget_set_on_a_child_limits_that_branch_only():
    kernel = Kernel.from_raw("budget", 1, 1, factories.demo_artifact())
    kernel.provide("test.queries", lambda ctx, n: queries(n) or n)
    root = Context(request_id="100", project_name="budget", kernel=kernel)
    with activate(root):
        assert connection.execute_wrappers == []  # no budget: nothing watches the queries
        with pytest.raises(BudgetExceeded) as error:
            root.call("test.queries", 6, budget=Budget(max_queries=5))
        assert (error.value.budget, error.value.limit, error.value.context_id) == (
            "queries",
            5,
            "100.1",
        )
        assert error.value.body() == {
            "error": "budget exceeded: more than 5 SQL queries in context 100.1 "
            "(limit set on 100.1)",
            "code": "BUDGET_EXCEEDED",
            "budget": "queries",
            "limit": 5,
            "context": "100.1",
        }
        assert error.value.status == 429
        assert root.call("test.queries", 5, budget=Budget(max_queries=5)) == 5  # exactly enough
        queries(20)  # the parent branch is not limited
        assert connection.execute_wrappers == []


@pytest.mark.django_db
def test_a_child_spends_its_ancestors_budget():
    request_budget = Budget(max_queries=10, context_id="200")
    root = Context(request_id="200", budgets=(request_budget,))
    child = root.fork()
    with activate(root):
        queries(4)
        with activate(child), pytest.raises(BudgetExceeded) as error:
            queries(10)
    assert (error.value.owner is request_budget, error.value.context_id) == (True, "200.1")
    assert str(error.value) == (
        "budget exceeded: more than 10 SQL queries in context 200.1 (limit set on 200)"
    )
    assert request_budget.queries == 11  # the refused query was counted, not run


def test_defaults_and_project_overrides(settings):
    assert project_budget("demo") is None  # 0 everywhere: off
    settings.OS_BUDGET_MAX_QUERIES = 50
    settings.OS_PROJECT_BUDGETS = {"crm": {"queries": 0, "rows": 1000}, "big": {"seconds": 2}}
    assert (project_budget("demo").max_queries, project_budget("demo").max_rows) == (50, 0)
    crm = project_budget("crm")
    assert (crm.max_queries, crm.max_rows, crm.max_seconds) == (0, 1000, 0)
    big = project_budget("big")
    assert (big.max_queries, big.max_seconds) == (50, 2.0)


def test_rows_budget_of_a_request(settings, demo, demo_client):
    settings.OS_BUDGET_MAX_ROWS = 2
    response = demo_client.get("/api/v1/data/demo_customer?top=1")
    assert response.status_code == 200  # fetches top + 1 = 2 rows
    response = demo_client.get("/api/v1/data/demo_customer", HTTP_X_REQUEST_ID="rows-1")
    assert response.status_code == 429
    assert response.json() == {
        "error": "budget exceeded: more than 2 rows read in context rows-1 (limit set on rows-1)",
        "code": "BUDGET_EXCEEDED",
        "budget": "rows",
        "limit": 2,
        "context": "rows-1",
    }


def test_time_budget_answers_503_for_that_project_only(settings, demo, demo_client):
    settings.OS_PROJECT_BUDGETS = {"demo": {"seconds": 0.000001}, "other": {"seconds": 100}}
    response = demo_client.get("/api/v1/data/demo_customer")
    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["budget"], body["limit"]) == ("BUDGET_EXCEEDED", "seconds", 1e-06)
    settings.OS_PROJECT_BUDGETS = {"other": {"seconds": 0.000001}}
    assert demo_client.get("/api/v1/data/demo_customer").status_code == 200


# --- a runaway request and a parallel one on a live (threaded) server --------------------

ITEMS = {
    "manifest": {"id": "kb.test", "namespace": "kb", "version": "1.0.0"},
    "objects": [{"name": "kb_item", "fields": {"name": {"type": "text", "required": True}}}],
}


def call(url: str, method: str, key: str, body: dict | None = None, request_id: str = ""):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Host": "kb.test",
            "X-API-Key": key,
            "Content-Type": "application/json",
            "X-Request-Id": request_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_runaway_branch_stops_at_50_queries_while_a_parallel_request_succeeds(
    settings, live_server
):
    project = factories.publish_artifact("kb", ITEMS, hosts=["kb.test"])
    user = factories.make_user("ann@kb.test", project, superuser=True)
    prefix, key = ApiKey.generate()
    ApiKey.objects.create(prefix=prefix, key_hash=hash_secret(key), user=user, project=project)
    settings.OS_PLUGINS = "tests.kernel.plugins.runaway"
    settings.OS_BUDGET_MAX_QUERIES = 50
    kernels.clear()
    runaway.started.clear()
    runaway.release.clear()
    url = f"{live_server.url}/api/v1/data/kb_item"
    outcome = {}

    def runaway_request():
        outcome["runaway"] = call(url, "POST", key, {"name": "runaway"}, "runaway-1")

    thread = threading.Thread(target=runaway_request)
    thread.start()
    try:
        assert runaway.started.wait(20), "the runaway request never reached its service"
        # served while the runaway branch is in flight, with its own budget of 50
        assert call(url, "GET", key, request_id="calm-1") == (
            200,
            {"object": "kb_item", "records": [], "total": 0, "hasMore": False},
        )
    finally:
        runaway.release.set()
        thread.join(30)
    status, body = outcome["runaway"]
    assert status == 429
    assert (body["code"], body["budget"], body["limit"], body["context"]) == (
        "BUDGET_EXCEEDED",
        "queries",
        50,
        "runaway-1.1",  # the service call's branch, a child of the request
    )
    # the branch's transaction rolled back: no row, no audit entry; the process serves on
    status, body = call(url, "GET", key)
    assert (status, body["total"]) == (200, 0)
    assert not AuditEvent.objects.filter(object_name="kb_item", action="create").exists()
    status, body = call(url, "POST", key, {"name": "calm"})
    assert status == 201 and body["record"]["name"] == "calm"
    started = time.monotonic()
    assert call(url, "GET", key)[1]["total"] == 1
    assert time.monotonic() - started < 10
