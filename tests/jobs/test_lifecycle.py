"""Submit, run, fail, retry and dead-letter, in this process against the real database
and the real ORM broker queue (the worker processes are in test_workers.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from apps.jobs import lifecycle, submit
from apps.jobs.exceptions import InvalidJob, JobNotRetryable
from apps.jobs.models import Job, JobEvent
from apps.jobs.runner import run_delivery
from apps.jobs.submission import retry
from tests import factories
from tests.jobs.conftest import make_context, queued, statuses

pytestmark = pytest.mark.django_db


def test_submit_writes_job_and_enqueues_only_after_commit(demo, demo_admin):
    ctx = make_context(demo, demo_admin)
    with transaction.atomic():
        job = submit(ctx, "tests.jobs.tasks.whoami", {"n": 1}, kind="test.whoami")
        assert queued(None, job) == []  # nothing on the broker before the commit
        assert Job.objects.filter(pk=job.pk).exists()
    # the test's own outer transaction (pytest-django's `db`) has not committed either
    assert queued(None, job) == []
    assert job.status == "submitted" and job.attempts == 1
    assert statuses(job) == [("submitted", "", 1)]
    assert (job.project_id, job.version_id) == (demo.id, demo.published_version_id)
    assert (job.user_id, job.request_id, job.is_system) == (demo_admin.pk, "req-jobs-1", False)


def test_enqueue_happens_on_commit(demo, demo_admin, django_capture_on_commit_callbacks):
    ctx = make_context(demo, demo_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami")
    assert len(callbacks) == 1 and queued(None, job) == []
    callbacks[0]()
    assert queued(None, job) == [(job.id, "", 1)]


def test_an_idempotency_key_submits_the_work_once(
    demo, demo_admin, django_capture_on_commit_callbacks
):
    ctx = make_context(demo, demo_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami",
                       idempotency_key="event-1")  # fmt: skip
        again = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami",
                       idempotency_key="event-1")  # fmt: skip
        other = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami",
                       idempotency_key="event-2")  # fmt: skip
    assert again.pk == first.pk and other.pk != first.pk
    assert len(callbacks) == 2  # one enqueue per distinct key
    assert queued(None, first, other) == [(first.id, "", 1), (other.id, "", 1)]
    assert statuses(Job.objects.get(pk=first.pk)) == [("submitted", "", 1)]
    with pytest.raises(InvalidJob) as error:
        submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami", idempotency_key="")
    assert error.value.field == "idempotency_key"


def test_rolled_back_submission_leaves_nothing(demo, demo_admin):
    ctx = make_context(demo, demo_admin)
    with pytest.raises(RuntimeError), transaction.atomic():
        job = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.whoami")
        raise RuntimeError("caller fails after submitting")
    assert not Job.objects.filter(pk=job.pk).exists() and queued(None, job) == []


def test_delivery_rebuilds_context_and_completes(demo, demo_admin, as_worker):
    as_worker("local")
    job = submit(make_context(demo, demo_admin), "tests.jobs.tasks.whoami", {"n": 7}, kind="t")
    assert run_delivery(job.id, "", 1) == "completed"
    job.refresh_from_db()
    assert job.status == "completed" and job.error == "" and job.finished_at is not None
    result = job.result
    assert result["worker"] == "local"
    assert (result["request_id"], result["user_id"], result["is_system"]) == (
        "req-jobs-1",
        demo_admin.pk,
        False,
    )
    assert (result["project"], result["job_id"], result["attempt"]) == ("demo", job.id, 1)
    assert result["version"] == demo.published_version.number
    assert result["current_context_is_ctx"] is True and result["kwargs"] == {"n": 7}
    assert statuses(job) == [
        ("submitted", "", 1),
        ("acknowledged", "local", 1),
        ("started", "local", 1),
        ("completed", "local", 1),
    ]
    # a second delivery of the same attempt (broker redelivery) is dropped
    assert run_delivery(job.id, "", 1) == "stale"
    assert run_delivery(job.id, "", 2) == "stale"
    assert run_delivery("0" * 32, "", 1) == "missing"
    assert job.events.count() == 4


def test_failures_retry_then_dead_letter(
    demo, demo_admin, as_worker, django_capture_on_commit_callbacks
):
    as_worker("local")
    ctx = make_context(demo, demo_admin)
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(ctx, "tests.jobs.tasks.fail", {"message": "no"}, kind="t", max_attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_delivery(job.id, "", 1) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.dead_letter) == ("submitted", 2, False)
    assert job.error == "ValueError: no"
    assert queued(None, job) == [(job.id, "", 1), (job.id, "", 2)]
    retry_event = job.events.order_by("id").last()
    assert (retry_event.status, retry_event.attempt, retry_event.message) == (
        "submitted",
        2,
        "retry 2 of 2",
    )

    assert run_delivery(job.id, "", 2) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.dead_letter) == ("failed", 2, True)
    last = job.events.order_by("id").last()
    assert (last.status, last.error, last.message) == (
        "failed",
        "ValueError: no",
        "dead-lettered after 2 attempts",
    )
    assert statuses(job)[-3:] == [
        ("acknowledged", "local", 2),
        ("started", "local", 2),
        ("failed", "local", 2),
    ]

    # a person retries it: one more attempt, no longer dead-lettered
    with django_capture_on_commit_callbacks(execute=True):
        job = retry(job.id)
    assert (job.status, job.attempts, job.max_attempts, job.dead_letter) == (
        "submitted",
        3,
        3,
        False,
    )
    assert queued(None, job)[-1] == (job.id, "", 3)


def test_result_must_be_json(demo, demo_admin, as_worker):
    as_worker("local")
    ctx = make_context(demo, demo_admin)
    job = submit(ctx, "tests.jobs.tasks.not_json", {}, kind="t", max_attempts=1)
    assert run_delivery(job.id, "", 1) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.dead_letter
    assert job.error.startswith("TypeError: Type is not JSON serializable")


def test_job_of_a_deleted_user_fails_instead_of_running_as_system(demo, as_worker):
    as_worker("local")
    user = factories.make_user("leaver@demo.test", demo)
    job = submit(make_context(demo, user), "tests.jobs.tasks.whoami", {}, kind="t", max_attempts=1)
    get_user_model().objects.filter(pk=user.pk).delete()
    assert run_delivery(job.id, "", 1) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.result is None
    assert job.error == "ContextUnavailable: the user who submitted the job no longer exists"
    assert [e.status for e in job.events.order_by("id")] == ["submitted", "acknowledged", "failed"]


def test_system_job_runs_as_system(demo, as_worker):
    as_worker("local")
    job = submit(make_context(demo, None), "tests.jobs.tasks.whoami", {}, kind="t")
    run_delivery(job.id, "", 1)
    job.refresh_from_db()
    assert job.result["is_system"] is True and job.result["user_id"] is None


@pytest.mark.parametrize(
    ("func", "kwargs", "options", "field"),
    [
        ("tests.jobs.tasks.nope", {}, {}, "func"),
        ("tests.jobs.tasks.whoami", {"when": object()}, {}, "kwargs"),
        ("tests.jobs.tasks.whoami", {}, {"target": "group:"}, "target"),
        ("tests.jobs.tasks.whoami", {}, {"target": "a b"}, "target"),
        ("tests.jobs.tasks.whoami", {}, {"max_attempts": 0}, "max_attempts"),
        ("tests.jobs.tasks.whoami", {}, {"queue": "Bad Queue"}, "queue"),
        ("tests.jobs.tasks.whoami", {}, {"kind": ""}, "kind"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(demo, func, kwargs, options, field):
    options = {"kind": "t", **options}
    before = Job.objects.count()
    with pytest.raises(InvalidJob) as raised:
        submit(make_context(demo), func, kwargs, **options)
    assert raised.value.field == field and raised.value.code == "VALIDATION_FAILED"
    assert Job.objects.count() == before


def test_only_failed_jobs_are_retried(demo, as_worker):
    as_worker("local")
    job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t")
    with pytest.raises(JobNotRetryable):
        retry(job.id)  # still submitted
    run_delivery(job.id, "", 1)
    with pytest.raises(JobNotRetryable) as raised:
        retry(job.id)
    assert raised.value.status == 409 and "completed" in raised.value.message


def test_events_are_append_only(demo):
    job = submit(make_context(demo), "tests.jobs.tasks.whoami", {}, kind="t")
    event = job.events.get()
    event.status = "completed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert JobEvent.objects.get(pk=event.pk).status == "submitted"
    assert lifecycle.slots(job)[""].status == "submitted"


def test_submitted_event_says_when_no_registered_worker_serves_the_queue(demo):
    from tests.jobs.conftest import add_worker

    ctx = make_context(demo)
    lonely = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="t", queue="schema")
    assert lonely.events.get().message == "no registered worker serves queue 'schema' yet"
    add_worker("alpha", queues=["objectos", "objectos.q.schema", "objectos.w.alpha"])
    served = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="t", queue="schema")
    assert served.events.get().message == ""


def test_a_context_naming_only_its_project_keeps_it(demo):
    ctx = make_context(demo)
    ctx.project_id = None  # as built by code that has the kernel and the name only
    job = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="t")
    assert job.project_id == demo.id
