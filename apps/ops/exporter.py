"""`/metrics`: the HTTP metrics plus collectors for the kernel cache, the job queue and
the process, in the Prometheus text format.

Access: with `OS_METRICS_TOKEN` set, `Authorization: Bearer <token>` is required (401
otherwise); without it only loopback clients are served (403 otherwise), so an exposed
port never leaks numbers. Behind a reverse proxy on the same host every client looks
like loopback: set the token there.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from apps.kernel.cache import kernels
from apps.ops import broker
from apps.ops.metrics import CONTENT_TYPE, Family, Sample, registry

logger = logging.getLogger("objectos.metrics")
PROCESS_STARTED = time.time()


def _one(name: str, kind: str, help: str, value: float, **labels: str) -> Family:
    return Family(name, kind, help, [Sample(name, labels, value)])


@registry.add_collector
def kernel_cache_metrics() -> Iterable[Family]:
    cached = kernels.cached()
    yield _one("objectos_kernel_cache_hits_total", "counter", "Kernel cache hits.", kernels.hits)
    yield _one(
        "objectos_kernel_cache_misses_total",
        "counter",
        "Kernel cache misses (each one builds a kernel).",
        kernels.misses,
    )
    yield _one(
        "objectos_kernel_cache_evictions_total",
        "counter",
        "Kernels evicted from the cache (least recently used).",
        kernels.evictions,
    )
    yield _one("objectos_kernel_cache_size", "gauge", "Kernels in the cache.", len(cached))
    yield _one(
        "objectos_kernel_cache_capacity",
        "gauge",
        "Kernels the cache holds at most (OS_KERNEL_CACHE_SIZE).",
        kernels.size,
    )
    yield Family(
        "objectos_kernel_build_seconds",
        "summary",
        "Time spent building kernels on cache misses.",
        [
            Sample("objectos_kernel_build_seconds_sum", {}, kernels.build_seconds_total),
            Sample("objectos_kernel_build_seconds_count", {}, kernels.misses),
        ],
    )
    yield Family(
        "objectos_kernel_last_build_seconds",
        "gauge",
        "Build time of each cached kernel.",
        [
            Sample(
                "objectos_kernel_last_build_seconds",
                {"project": kernel.project_name, "version": str(kernel.version_number)},
                kernel.build_seconds,
            )
            for kernel in cached
        ],
    )


@registry.add_collector
def job_metrics() -> Iterable[Family]:
    kind = broker.broker_kind()
    try:
        depths = broker.queue_depths()
    except Exception as error:
        logger.warning("metrics: job queue depth unavailable: %s", error)
    else:
        yield Family(
            "objectos_jobs_queued",
            "gauge",
            "Jobs waiting in the queue, per django-q cluster (queue).",
            [
                Sample("objectos_jobs_queued", {"broker": kind, "queue": name}, depth)
                for name, depth in depths.items()
            ]
            or [Sample("objectos_jobs_queued", {"broker": kind, "queue": _cluster()}, 0)],
        )
    try:
        stats = broker.cluster_stats()
    except Exception as error:
        logger.warning("metrics: worker stats unavailable: %s", error)
        return
    yield _one(
        "objectos_job_clusters",
        "gauge",
        "Running django-q clusters that report their status where this process can see it.",
        len(stats),
    )
    yield _one(
        "objectos_job_workers",
        "gauge",
        "Worker processes of those clusters.",
        broker.worker_count(stats),
    )


def _cluster() -> str:
    return str(settings.Q_CLUSTER.get("name", "default"))


@registry.add_collector
def process_metrics() -> Iterable[Family]:
    yield _one(
        "objectos_process_start_time_seconds",
        "gauge",
        "Start time of this process since the Unix epoch.",
        round(PROCESS_STARTED, 3),
    )


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _refusal(request: HttpRequest) -> JsonResponse | None:
    token = settings.OS_METRICS_TOKEN
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        presented = header[7:] if header.startswith("Bearer ") else ""
        if hmac.compare_digest(presented.encode(), token.encode()):
            return None
        response = JsonResponse(
            {"error": "a valid metrics token is required", "code": "UNAUTHENTICATED"},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if _is_loopback(request.META.get("REMOTE_ADDR", "")):
        return None
    return JsonResponse(
        {
            "error": "metrics are served to loopback clients only unless OS_METRICS_TOKEN is set",
            "code": "FORBIDDEN",
        },
        status=403,
    )


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(registry.render(), content_type=CONTENT_TYPE)
