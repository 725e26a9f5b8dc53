"""Project-less operations routes: /healthz, /readyz, /metrics (no authentication; /metrics
is limited to loopback or OS_METRICS_TOKEN, see apps.ops.exporter) and the control plane
/api/v1/control/... (control-plane keys, see apps.ops.control)."""

from django.urls import include, path

from apps.ops import exporter, health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", exporter.metrics, name="metrics"),
    path("api/v1/control/", include("apps.ops.control")),
]
