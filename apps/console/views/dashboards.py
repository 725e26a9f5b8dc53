"""Dashboards, and the artifact's pages and reports the Console cannot run.

A dashboard page computes its widgets for the reader (apps.console.dashboards). JSX and
SDUI pages need the ObjectStack front-end; their navigation entries lead to a page that
says so, with the page's label, instead of a dead link.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.console.dashboards import dashboard_widgets
from apps.console.views.common import Console, console_view, page
from apps.objectql.exceptions import RecordNotFound


@console_view
@require_GET
def dashboard(request: HttpRequest, name: str) -> HttpResponse:
    console: Console = request.console
    spec = console.site.dashboards.get(name)
    if spec is None:
        raise RecordNotFound(f"no dashboard '{name}'")
    widgets = dashboard_widgets(console.ctx, console.site, console.t, spec)
    return page(request, "console/dashboard.html", title=str(spec.get("label") or name),
                description=str(spec.get("description") or ""), widgets=widgets)  # fmt: skip


@console_view
@require_GET
def artifact_page(request: HttpRequest, name: str, kind: str = "page") -> HttpResponse:
    """An artifact page or report: named, with why it is not rendered here."""
    console: Console = request.console
    found = (console.site.artifact_pages if kind == "page" else console.site.reports).get(name)
    if found is None:
        raise RecordNotFound(f"no {kind} '{name}'")
    return page(request, "console/artifact_page.html", title=str(found.get("label") or name),
                kind=kind, name=name, page_type=str(found.get("type") or ""),
                page_kind=str(found.get("kind") or ""),
                description=str(found.get("description") or ""))  # fmt: skip
