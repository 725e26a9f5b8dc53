"""Top-level routes: the API, health checks and metrics (apps.ops) and the Console."""

from django.urls import include, path

handler404 = "apps.ops.errors.not_found"
handler500 = "apps.ops.errors.server_error"

urlpatterns = [
    path("api/v1/", include("apps.api.urls")),  # first: the requests that count
    path("", include("apps.ops.urls")),
    path("_console/", include("apps.console.urls")),
]
