"""The control plane: other instances (cloud-connected mode, apps.ops.cloud) read this one's
published artifacts here. Read-only, project-less, and only with a control-plane key
(`manage.py create_control_key`) in `Authorization: Bearer <key>`; anything else is 401.

- `GET /api/v1/control/projects` -> `[{name, hosts, version, sha256}]`: the projects the
  key may see that have a published version;
- `GET /api/v1/control/projects/<name>/versions/<n>` -> the artifact JSON of a version that
  is or was published (its stored text, byte for byte; `X-Artifact-Sha256`), else 404.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from apps.ops.models import KEY_PREFIX, ControlKey, hash_key
from apps.projects.models import AppVersion, Project

logger = logging.getLogger("objectos.control")


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": message, "code": code}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="objectos-control"'
    return response


def authenticate(request: HttpRequest) -> ControlKey | None:
    """The live control key presented by the request, if any."""
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw.startswith(KEY_PREFIX):
        return None
    return ControlKey.objects.filter(key_hash=hash_key(raw), revoked_at__isnull=True).first()


def _refused(request: HttpRequest) -> JsonResponse:
    logger.warning(
        "control plane: request without a valid key from %s", request.META.get("REMOTE_ADDR")
    )
    return _error(401, "UNAUTHENTICATED", "a valid control-plane key is required")


@require_safe
def projects(request: HttpRequest) -> JsonResponse:
    key = authenticate(request)
    if key is None:
        return _refused(request)
    rows = (
        Project.objects.filter(published_version__isnull=False)
        .select_related("published_version")
        .prefetch_related("domains")
        .order_by("name")
    )
    listing = [
        {
            "name": project.name,
            "hosts": sorted(domain.hostname for domain in project.domains.all()),
            "version": project.published_version.number,
            "sha256": project.published_version.sha256,
        }
        for project in rows
        if key.allows(project.name)
    ]
    return JsonResponse(listing, safe=False)


@require_safe
def version(request: HttpRequest, name: str, number: int) -> HttpResponse:
    key = authenticate(request)
    if key is None:
        return _refused(request)
    row = (
        AppVersion.objects.filter(project__name=name, number=number, published_at__isnull=False)
        .only("source", "sha256")
        .first()
        if key.allows(name)
        else None
    )
    if row is None:
        return _error(404, "NOT_FOUND", f"no published version {number} of project '{name}'")
    response = HttpResponse(row.source, content_type="application/json")
    response["X-Artifact-Sha256"] = row.sha256
    return response


urlpatterns = [
    path("projects", projects, name="control-projects"),
    path("projects/<str:name>/versions/<int:number>", version, name="control-version"),
]
