"""Real worker processes (`manage.py worker`) on the ORM broker and on Redis: the life
cycle of a job, targeting with two workers of different labels, and a worker killed in
the middle of a job, whose job is retried by another worker instead of being lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django_q.conf import Conf

from apps.audit.models import AuditEvent
from apps.jobs import submit
from apps.jobs.models import Job, Worker
from tests import factories
from tests.jobs.conftest import make_context, statuses
from tests.schema.test_live_reload import database_url

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/5"  # this suite's own Redis db: flushed here
HEARTBEAT = "0.5"  # seconds; down after 3 missed

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACT = {
    "manifest": {"id": "jobsw.test", "namespace": "jobsw", "version": "1.0.0"},
    "objects": [{"name": "jobsw_note", "fields": {"title": {"type": "text"}}}],
}


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL the worker and every process of its clusters, as a crash would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


@pytest.fixture(params=["orm", "redis"])
def broker(request, monkeypatch):
    """The broker of this test process and of the workers it starts, under a cluster name
    of this test's own: other runs of this suite may share the Redis db at the same time."""
    name = f"jobs-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(Conf, "PREFIX", name)  # also the salt django-q2 signs tasks with
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "Q_STAT", f"django_q:{name}:cluster")
    monkeypatch.setenv("Q_CLUSTER_NAME", name)
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip(f"Redis at {REDIS_URL} is unreachable")
        import redis

        redis.from_url(REDIS_URL).flushdb()
        request.addfinalizer(lambda: redis.from_url(REDIS_URL).flushdb())
        # this process enqueues (after commit) with django-q2's configured broker
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    return request.param


@pytest.fixture
def workers(broker, tmp_path):
    """`start(name, labels="", queues="default")` starts a registered worker serving
    `queues` (OS_WORKER_QUEUES); all are stopped at the end."""
    started: list[WorkerProcess] = []

    def start(name: str, labels: str = "", queues: str = "default") -> WorkerProcess:
        data_dir = tmp_path / name
        data_dir.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            DATABASE_URL=database_url(),
            OS_DATA_DIR=str(data_dir),
            OS_AUTH_SECRET=Conf.SECRET_KEY,  # the key this process signs task payloads with
            OS_WORKER_NAME=name,
            OS_WORKER_LABELS=labels,
            OS_WORKER_QUEUES=queues,
            OS_WORKER_HEARTBEAT_SECONDS=HEARTBEAT,
            OS_WORKERS="1",
            OS_LOG_LEVEL="INFO",
            OS_LOG_FORMAT="text",
        )
        if broker == "redis":
            env["OS_QUEUE_URL"] = REDIS_URL
        log = data_dir / f"worker-{len(started)}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: clusters die with it
            )
        worker = WorkerProcess(name, process, log)
        started.append(worker)
        wait_until(
            lambda: Worker.objects.filter(name=name, pid=process.pid, state="up").exists(),
            60,
            f"worker {name} to register",
            started,
        )
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate, seconds: float, what: str, processes: list[WorkerProcess]):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(f"--- {p.name}\n{p.output()}" for p in processes)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def wait_for_job(job: Job, statuses_wanted: tuple[str, ...], processes, seconds: float = 60):
    def done():
        job.refresh_from_db()
        return job.status in statuses_wanted

    wait_until(done, seconds, f"job {job.kind} to be {statuses_wanted}", processes)
    return job


@pytest.fixture
def project(db):
    project = factories.publish_artifact("jobsw", ARTIFACT)
    user = factories.make_user("ann@jobsw.test", project)
    return project, user


def test_job_life_cycle_on_a_worker_process(workers, project, broker):
    project, user = project
    alpha = workers("alpha", "group=web.dev")
    row = Worker.objects.get(name="alpha")
    assert row.labels == {"group": "web.dev"} and row.pid == alpha.process.pid
    assert row.queues == [Conf.CLUSTER_NAME, f"{Conf.CLUSTER_NAME}.w.alpha"]
    assert row.facts["cpu_count"] == os.cpu_count()

    ctx = make_context(project, user, request_id="req-life-cycle")
    job = submit(ctx, "tests.jobs.tasks.whoami", {"n": 1}, kind="test.whoami")
    wait_for_job(job, ("completed", "failed"), [alpha])
    assert job.status == "completed", job.error
    result = job.result
    assert (result["worker"], result["request_id"], result["user_id"]) == (
        "alpha",
        "req-life-cycle",
        user.pk,
    )
    assert (result["project"], result["version"], result["attempt"]) == ("jobsw", 1, 1)
    # the function ran in one of alpha's cluster processes
    assert os.getpgid(result["pid"]) == alpha.process.pid
    assert statuses(job) == [
        ("submitted", "", 1),
        ("acknowledged", "alpha", 1),
        ("started", "alpha", 1),
        ("completed", "alpha", 1),
    ]

    # a failing job is retried, then dead-lettered
    failing = submit(ctx, "tests.jobs.tasks.fail", {"message": "nope"}, kind="t", max_attempts=2)
    wait_for_job(failing, ("failed",), [alpha])
    assert failing.dead_letter and failing.attempts == 2
    assert [s for s, _, _ in statuses(failing)].count("started") == 2

    # heartbeats keep coming
    first = Worker.objects.get(name="alpha").last_heartbeat
    wait_until(
        lambda: Worker.objects.get(name="alpha").last_heartbeat > first, 10, "a heartbeat", [alpha]
    )

    # a clean stop marks it stopped
    alpha.process.terminate()
    wait_until(
        lambda: Worker.objects.get(name="alpha").state == "stopped", 30, "a clean stop", [alpha]
    )


def test_targeting_with_two_workers_of_different_labels(workers, project):
    project, user = project
    alpha = workers("alpha", "group=web.dev")
    beta = workers("beta", "group=batch")
    both = [alpha, beta]
    ctx = make_context(project, user)

    def run(target: str) -> Job:
        job = submit(ctx, "tests.jobs.tasks.whoami", {}, kind="test.target", target=target)
        return wait_for_job(job, ("completed", "failed", "partial_failure", "skipped"), both)

    everyone = run("_all")
    assert everyone.status == "completed"
    assert {name: r["worker"] for name, r in everyone.result.items()} == {
        "alpha": "alpha",
        "beta": "beta",
    }
    assert os.getpgid(everyone.result["beta"]["pid"]) == beta.process.pid

    web = run("group:web")  # matches web.dev
    assert web.status == "completed" and list(web.result) == ["alpha"]

    by_name = run("beta")
    assert by_name.status == "completed" and list(by_name.result) == ["beta"]

    anyone = run("_any")
    assert anyone.status == "completed" and anyone.result["worker"] in ("alpha", "beta")

    nobody = run("group:gpu")
    assert nobody.status == "skipped"
    assert nobody.error == "no live worker matches target 'group:gpu'"

    # a broadcast where one worker fails: partial_failure, with each worker's outcome
    partial = submit(
        ctx, "tests.jobs.tasks.fail_on", {"worker": "beta"}, kind="t", target="_all",
        max_attempts=1,
    )  # fmt: skip
    wait_for_job(partial, ("partial_failure", "completed", "failed"), both)
    assert partial.status == "partial_failure"
    assert partial.result == {"alpha": {"worker": "alpha"}}
    assert partial.error == "beta: RuntimeError: refused on beta"


def test_worker_killed_mid_job_leads_to_a_retry(workers, project, tmp_path):
    project, user = project
    alpha = workers("alpha")
    marker = tmp_path / "started"
    ctx = make_context(project, user)
    job = submit(
        ctx, "tests.jobs.tasks.sleepy", {"marker": str(marker), "seconds": 120}, kind="t.sleep"
    )
    wait_for_job(job, ("started",), [alpha])
    wait_until(marker.exists, 10, "the job to start sleeping", [alpha])
    assert marker.read_text().startswith("alpha ")

    alpha.kill()  # mid-job: no outcome will ever come from alpha
    beta = workers("beta")
    wait_for_job(job, ("completed", "failed"), [alpha, beta])
    assert job.status == "completed" and job.attempts == 2
    assert job.result == {"worker": "beta", "attempt": 2}
    history = [(e.status, e.worker, e.attempt, e.error) for e in job.events.order_by("id")]
    assert history == [
        ("submitted", "", 1, ""),
        ("acknowledged", "alpha", 1, ""),
        ("started", "alpha", 1, ""),
        ("failed", "alpha", 1, "worker alpha went down during attempt 1"),
        ("submitted", "", 2, ""),
        ("acknowledged", "beta", 2, ""),
        ("started", "beta", 2, ""),
        ("completed", "beta", 2, ""),
    ]
    assert Worker.objects.get(name="alpha").state == "down"
    down = AuditEvent.objects.get(action="worker.down", record_id="alpha")
    assert down.details["jobs_rescued"] == [job.id]
