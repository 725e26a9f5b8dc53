"""`manage.py worker`: a registered job worker (README "Jobs and workers").

One process that registers in the worker registry (OS_WORKER_NAME, OS_WORKER_LABELS,
OS_WORKER_QUEUES), starts one django-q2 Cluster per queue it serves (the shared queues,
plus its own queue for deliveries addressed to it), then heartbeats every
OS_WORKER_HEARTBEAT_SECONDS and runs the condition watcher, until SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading

from django import db
from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.brokers import get_broker
from django_q.cluster import Cluster
from django_q.conf import Conf

from apps.jobs import queues, registry, watch

logger = logging.getLogger("objectos.jobs")


class Command(BaseCommand):
    help = "Run a job worker: register, serve its django-q2 queues, heartbeat until stopped."

    def handle(self, *args, **options) -> None:
        identity = registry.identity_from_env()
        worker, previous = registry.register(identity)
        self._after_registration(identity, worker, previous)
        keys = list(worker.queues)
        db.connections.close_all()  # the clusters fork: they must not share our connection
        clusters = self._start_clusters(keys)
        stop = threading.Event()

        def request_stop(signum, frame) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(
            f"worker {identity.name} (pid {identity.pid}) serving {', '.join(keys)}",
        )
        self.stdout.flush()
        try:
            while not stop.wait(settings.OS_WORKER_HEARTBEAT_SECONDS):
                self._beat(identity)
        finally:
            for cluster in clusters:
                cluster.stop()
            db.close_old_connections()
            registry.unregister(identity)

    def _after_registration(self, identity, worker, previous: str | None) -> None:
        if previous == "down":
            watch.worker_came_back(worker)
        elif previous == "up":
            # the last process of this name ended without stopping: its jobs are orphans
            watch.rescue(identity.name, f"worker {identity.name} restarted")

    def _start_clusters(self, keys: list[str]) -> list[Cluster]:
        """One Cluster per queue; only the default queue's cluster runs the scheduler (a
        second scheduler would put scheduled tasks on a worker's own queue)."""
        clusters = []
        scheduler = Conf.SCHEDULER
        try:
            for key in keys:
                Conf.SCHEDULER = scheduler and key == queues.shared_queue(queues.DEFAULT_QUEUE)
                cluster = Cluster(get_broker(key))
                cluster.start()
                clusters.append(cluster)
        finally:
            Conf.SCHEDULER = scheduler
        return clusters

    def _beat(self, identity) -> None:
        try:
            db.close_old_connections()
            previous = registry.heartbeat(identity)
            if previous is None:  # the row went away or was taken over: claim it again
                worker, previous = registry.register(identity)
                self._after_registration(identity, worker, previous)
            elif previous == "down":
                watch.worker_came_back(registry.Worker.objects.get(name=identity.name))
            watch.watch()
        except Exception:  # a database hiccup must not end the worker: try next beat
            logger.exception("worker %s heartbeat failed", identity.name)
