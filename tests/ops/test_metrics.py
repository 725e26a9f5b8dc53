"""/metrics: Prometheus text that moves exactly with the requests made, and its access rule."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client, override_settings

from apps.kernel.cache import kernels
from apps.ops.metrics import Counter, Histogram, render

pytestmark = pytest.mark.django_db

LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
RECORDS = "/api/v1/data/<object_name>"
RECORD = "/api/v1/data/<object_name>/<record_id>"


def scrape(client: Client | None = None) -> dict[tuple, float]:
    """{(name, frozenset(labels)): value} of one scrape; checks every line parses."""
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for line in response.content.decode().splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) \w+ ", line), line
            continue
        match = LINE.match(line)
        assert match, line
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_request_counters_and_latency_move_by_route_and_status(demo_client):
    before = scrape()
    for _ in range(3):
        assert demo_client.get("/api/v1/data/demo_customer").status_code == 200
    assert demo_client.get("/api/v1/data/demo_invoice?top=1").status_code == 200
    assert demo_client.get("/api/v1/data/nope").status_code == 404
    assert demo_client.get("/api/v1/data/demo_customer/0123").status_code == 404
    assert Client(HTTP_HOST="nowhere.test").get("/api/v1/data/x").status_code == 404
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "objectos_http_requests_total"
    assert moved(requests, method="GET", route=RECORDS, status="200") == 4
    assert moved(requests, method="GET", route=RECORDS, status="404") == 1
    assert moved(requests, method="GET", route=RECORD, status="404") == 1
    assert moved(requests, method="GET", route="unmatched", status="404") == 1
    # the first scrape itself was counted before the second one rendered
    assert moved(requests, method="GET", route="/metrics", status="200") == 1
    latency = "objectos_http_request_duration_seconds"
    assert moved(f"{latency}_count", route=RECORDS) == 5
    assert moved(f"{latency}_bucket", route=RECORDS, le="+Inf") == 5
    assert moved(f"{latency}_sum", route=RECORDS) > 0
    buckets = [
        value(after, f"{latency}_bucket", route=RECORDS, le=le)
        for le in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10")
    ]
    assert buckets == sorted(buckets)  # cumulative


def test_kernel_cache_metrics(demo_client):
    kernels.clear()
    before = scrape()
    assert value(before, "objectos_kernel_cache_size") == 0
    demo_client.get("/api/v1/data/demo_customer")  # builds the kernel
    demo_client.get("/api/v1/data/demo_customer")
    after = scrape()
    for name, moved in [("hits", 1), ("misses", 1), ("evictions", 0)]:
        metric = f"objectos_kernel_cache_{name}_total"
        assert value(after, metric) - value(before, metric) == moved, name
    assert value(after, "objectos_kernel_cache_size") == 1
    assert value(after, "objectos_kernel_cache_capacity") == kernels.size
    assert value(after, "objectos_kernel_build_seconds_count") == kernels.misses
    built = kernels.cached()[0]
    assert value(after, "objectos_kernel_build_seconds_sum") > 0
    gauge = value(
        after,
        "objectos_kernel_last_build_seconds",
        project="demo",
        version=str(built.version_number),
    )
    assert gauge == pytest.approx(built.build_seconds)


@override_settings(Q_CLUSTER={"name": "objectos", "orm": "default"})
def test_job_queue_depth_and_workers(db):
    from django.utils import timezone
    from django_q.models import OrmQ

    samples = scrape()
    assert value(samples, "objectos_jobs_queued", broker="orm", queue="objectos") == 0
    now = timezone.now()
    OrmQ.objects.create(key="objectos", payload="x", lock=now)
    OrmQ.objects.create(key="objectos", payload="y", lock=now)
    OrmQ.objects.create(key="schema", payload="z", lock=now)
    OrmQ.objects.create(key="schema", payload="taken", lock=now + timezone.timedelta(hours=1))
    samples = scrape()
    assert value(samples, "objectos_jobs_queued", broker="orm", queue="objectos") == 2
    assert value(samples, "objectos_jobs_queued", broker="orm", queue="schema") == 1
    # no qcluster runs in the test process
    assert value(samples, "objectos_job_workers") == 0
    assert value(samples, "objectos_job_clusters") == 0


def test_metrics_is_for_loopback_unless_a_token_is_set(db):
    remote = Client(REMOTE_ADDR="192.0.2.7")
    response = remote.get("/metrics")
    assert response.status_code == 403
    assert response.json() == {
        "error": "metrics are served to loopback clients only unless OS_METRICS_TOKEN is set",
        "code": "FORBIDDEN",
    }
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200

    with override_settings(OS_METRICS_TOKEN="s3cret-metrics"):
        for client in (Client(), remote, Client(HTTP_AUTHORIZATION="Bearer wrong")):
            response = client.get("/metrics")
            assert response.status_code == 401
            assert response.json() == {
                "error": "a valid metrics token is required",
                "code": "UNAUTHENTICATED",
            }
            assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        good = Client(REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
        scrape(good)


def test_exposition_format():
    counter = Counter("t_total", "A counter.", ("path",))
    counter.inc('a"b\\c\nd')
    counter.inc("x", amount=2.5)
    histogram = Histogram("t_seconds", "A histogram.", buckets=(0.1, 1))
    histogram.observe(0.05)
    histogram.observe(0.1)
    histogram.observe(3)
    assert render([counter.collect(), histogram.collect()]) == (
        "# HELP t_total A counter.\n"
        "# TYPE t_total counter\n"
        't_total{path="a\\"b\\\\c\\nd"} 1\n'
        't_total{path="x"} 2.5\n'
        "# HELP t_seconds A histogram.\n"
        "# TYPE t_seconds histogram\n"
        't_seconds_bucket{le="0.1"} 2\n'
        't_seconds_bucket{le="1"} 2\n'
        't_seconds_bucket{le="+Inf"} 3\n'
        "t_seconds_sum 3.15\n"
        "t_seconds_count 3\n"
    )


def test_job_queue_depth_with_the_redis_broker(db):
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=15, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queue = f"opsmetrics{uuid.uuid4().hex[:8]}"
    key = f"django_q:{queue}:q"
    client.rpush(key, "a", "b", "c")
    try:
        with override_settings(Q_CLUSTER={"name": queue, "redis": "redis://127.0.0.1:6379/15"}):
            samples = scrape()
    finally:
        client.delete(key)
    assert value(samples, "objectos_jobs_queued", broker="redis", queue=queue) == 3
    assert ("objectos_job_workers", frozenset()) in samples
