"""Top-level routes: the API, health checks and (later) the Console."""

from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    return JsonResponse({"error": "not found", "code": "NOT_FOUND"}, status=404)


def server_error(request):
    return JsonResponse({"error": "internal error", "code": "INTERNAL_ERROR"}, status=500)


handler404 = not_found
handler500 = server_error

urlpatterns = [
    path("healthz", healthz),
    path("api/v1/", include("apps.api.urls")),
]
