"""The django-q2 job broker seen from a web process: reachable, queue depth, workers.

The ORM broker (default) is the database: queued tasks are `OrmQ` rows. With
`OS_QUEUE_URL=redis://...` the broker is Redis, asked here through one client with short
timeouts so that a health check or a scrape never hangs on it.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

REDIS_TIMEOUT_SECONDS = 1.0

_client = None
_client_lock = threading.Lock()


def broker_kind() -> str:
    """'redis' or 'orm', as configured in settings.Q_CLUSTER."""
    return "redis" if settings.Q_CLUSTER.get("redis") else "orm"


def redis_client():
    """One Redis client per process for OS_QUEUE_URL, with short socket timeouts."""
    global _client
    with _client_lock:
        url = settings.Q_CLUSTER["redis"]
        if _client is None or _client.objectos_url != url:
            import redis

            _client = redis.Redis.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            _client.objectos_url = url
        return _client


def ping_redis() -> None:
    """Raises when the Redis broker does not answer PING."""
    redis_client().ping()


def queue_depths() -> dict[str, int]:
    """Tasks waiting to be picked up, per queue (django-q cluster name)."""
    if broker_kind() == "redis":
        client = redis_client()
        depths = {}
        for key in client.keys("django_q:*:q"):
            name = key.decode().split(":", 2)[1].rsplit(":", 1)[0]
            depths[name] = int(client.llen(key))
        return depths
    from django_q.models import OrmQ

    # A task is waiting while its lock time has passed (see django_q.brokers.orm).
    rows = (
        OrmQ.objects.filter(lock__lte=timezone.now())
        .values("key")
        .annotate(waiting=Count("id"))
        .order_by("key")
    )
    return {row["key"]: row["waiting"] for row in rows}


def cluster_stats() -> list:
    """django-q2's status of each running cluster (its `Stat`), as the clusters report it.

    With Redis the clusters report into Redis. With the ORM broker they report into
    Django's cache, which is per process unless CACHES names a shared cache: a web process
    then sees no cluster (apps.jobs' worker registry is the durable record).
    """
    from django_q.conf import Conf
    from django_q.status import Stat

    if broker_kind() != "redis":
        return Stat.get_all()
    from django_q.signing import BadSignature, SignedPackage

    client = redis_client()
    keys = client.keys(f"{Conf.Q_STAT}:*")
    stats = []
    for pack in client.mget(keys) if keys else []:
        if pack is None:
            continue
        try:
            stats.append(SignedPackage.loads(pack))
        except BadSignature:
            continue
    return stats


def worker_count(stats: list) -> int:
    return sum(len(getattr(stat, "workers", ()) or ()) for stat in stats)
