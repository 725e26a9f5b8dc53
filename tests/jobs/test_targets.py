"""Targeting: `_any`, `_all`, a worker name or hostname, labels; outcomes per worker."""

from __future__ import annotations

import pytest

from apps.jobs import submit
from apps.jobs.queues import worker_queue
from apps.jobs.runner import run_delivery
from apps.jobs.targets import Target, parse_labels, parse_target
from tests.jobs.conftest import add_worker, make_context, queued, statuses

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("target", "parsed"),
    [
        ("_any", Target("any")),
        ("_all", Target("all")),
        ("web-1.example.com", Target("name", name="web-1.example.com")),
        ("group:web", Target("label", key="group", value="web")),
    ],
)
def test_parse_target(target, parsed):
    assert parse_target(target) == parsed


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        ("web", True),
        ("web.dev", True),
        ("web.dev.us-east", True),
        ("webapp", False),
        ("api.web", False),
        ("", False),
    ],
)
def test_label_matches_itself_and_below(value, matches):
    labels = {"group": value} if value else {}
    assert parse_target("group:web").matches("w", "h", labels) is matches


def test_parse_labels():
    assert parse_labels("group=web.dev, zone=eu") == {"group": "web.dev", "zone": "eu"}
    assert parse_labels("") == {}
    with pytest.raises(ValueError, match="bad worker label 'group'"):
        parse_labels("group")


@pytest.fixture
def fleet(db):
    """alpha (group=web.dev), beta (group=batch), and gamma whose heartbeats stopped."""
    return {
        "alpha": add_worker("alpha", {"group": "web.dev"}),
        "beta": add_worker("beta", {"group": "batch"}, hostname="beta-host"),
        "gamma": add_worker("gamma", {"group": "web"}, age_seconds=60),
    }


def submitted_slots(job) -> list[str]:
    return sorted(worker for status, worker, _ in statuses(job) if status == "submitted")


@pytest.mark.parametrize(
    ("target", "workers"),
    [
        ("_all", ["alpha", "beta"]),
        ("group:web", ["alpha"]),
        ("group:web.dev", ["alpha"]),
        ("group:batch", ["beta"]),
        ("beta", ["beta"]),
        ("beta-host", ["beta"]),
    ],
)
def test_targets_reach_every_matching_live_worker(
    fleet, demo, target, workers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t", target=target)
    assert submitted_slots(job) == workers  # never gamma: its heartbeats stopped
    assert job.status == "submitted"
    for name in workers:
        assert queued(worker_queue(name), job) == [(job.id, name, 1)]
    assert queued(None, job) == []  # nothing on the shared queue


@pytest.mark.parametrize("target", ["group:gpu", "gamma", "nobody"])
def test_no_live_match_skips_with_reason(fleet, demo, target):
    job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t", target=target)
    assert job.status == "skipped" and job.finished_at is not None
    assert job.error == f"no live worker matches target '{target}'"
    assert statuses(job) == [("skipped", "", 0)]


def test_broadcast_outcome_per_worker_and_partial_failure(
    fleet, demo, as_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(
            make_context(demo),
            "tests.jobs.tasks.fail_on",
            {"worker": "beta"},
            kind="t",
            target="_all",
            max_attempts=1,
        )
    as_worker("alpha")
    assert run_delivery(job.id, "alpha", 1) == "completed"
    job.refresh_from_db()
    assert job.status == "started"  # beta has not run yet
    as_worker("beta")
    assert run_delivery(job.id, "beta", 1) == "failed"
    job.refresh_from_db()
    assert job.status == "partial_failure" and job.dead_letter
    assert job.result == {"alpha": {"worker": "alpha"}}
    assert job.error == "beta: RuntimeError: refused on beta"

    from apps.jobs.query import job_body

    outcomes = {
        w["worker"]: (w["status"], w["attempts"], w["error"]) for w in job_body(job)["workers"]
    }
    assert outcomes == {
        "alpha": ("completed", 1, None),
        "beta": ("failed", 1, "RuntimeError: refused on beta"),
    }

    # a retry re-delivers to the failed worker only
    from apps.jobs.submission import retry

    with django_capture_on_commit_callbacks(execute=True):
        job = retry(job.id)
    assert job.status == "started"
    assert queued(worker_queue("beta"), job)[-1] == (job.id, "beta", 2)
    assert len(queued(worker_queue("alpha"), job)) == 1


def test_all_completed_and_all_failed(fleet, demo):
    ok = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t", target="_all")
    bad = submit(
        make_context(demo), "tests.jobs.tasks.fail", {}, kind="t", target="_all", max_attempts=1
    )
    for name in ("alpha", "beta"):
        run_delivery(ok.id, name, 1)
        run_delivery(bad.id, name, 1)
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == "completed" and set(ok.result) == {"alpha", "beta"}
    assert bad.status == "failed" and bad.result is None
