"""django-q2 queues of the jobs layer and the one function that puts a delivery on them.

Shared queues serve `_any` jobs: `default` is django-q2's own cluster queue (so a plain
`manage.py qcluster` serves it too), any other named queue is `<cluster>.q.<name>`. Every
registered worker also consumes its own queue, `<cluster>.w.<worker name>`, which carries
the deliveries addressed to it (host, label and `_all` targets). A delivery is only ids:
`apps.jobs.runner.run_delivery(job_id, slot, attempt)`.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger("objectos.jobs")

DEFAULT_QUEUE = "default"
RUNNER = "apps.jobs.runner.run_delivery"


def shared_queue(queue: str) -> str:
    """The broker list key of a shared (load-balanced) queue."""
    return Conf.CLUSTER_NAME if queue == DEFAULT_QUEUE else f"{Conf.CLUSTER_NAME}.q.{queue}"


def worker_queue(worker_name: str) -> str:
    """The broker list key of one worker's own queue."""
    return f"{Conf.CLUSTER_NAME}.w.{worker_name}"


def enqueue(list_key: str, job_id: str, slot: str, attempt: int) -> str:
    """Put one delivery on a queue now. Failed runs are acknowledged (ack_failure): the
    jobs layer counts attempts and retries itself, the broker must not redeliver them."""
    task_id = async_task(
        RUNNER,
        job_id,
        slot,
        attempt,
        broker=get_broker(list_key),
        ack_failure=True,
        task_name=f"job-{job_id}-{attempt}",
    )
    logger.info("job %s attempt %s queued on %s", job_id, attempt, list_key)
    return task_id


def enqueue_on_commit(list_key: str, job_id: str, slot: str, attempt: int) -> None:
    """Enqueue once the current transaction commits (at once outside a transaction), so a
    worker never sees a delivery for a job row that is not there (or was rolled back)."""
    transaction.on_commit(lambda: enqueue(list_key, job_id, slot, attempt))
