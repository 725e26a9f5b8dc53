"""One Console AdminSite per kernel: compiled pages, translations and navigation.

The site is built once per kernel (project version) and kept beside it; a new version
gets a new site on its first Console request, so an approved artifact change shows
without a restart. It is a Django `AdminSite` for the admin's look and its per-site
context, but registers no ModelAdmin: every page reads and writes through objectql
(apps.console.views), so the Console can never show or allow more than the API.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest

from apps.console.i18n import Translator, bundles_of, supported_locales
from apps.console.pages import ObjectPages, compile_pages
from apps.kernel.kernel import Kernel
from apps.projects.context import Context
from apps.security.access import object_access

PREFIX = settings.CONSOLE_PATH_PREFIX


@dataclass(frozen=True)
class NavItem:
    """One navigation entry: a group (children), an object list, a dashboard, an
    artifact page, a report or an outside link (`target` as the artifact names it)."""

    label: str
    object_name: str | None = None
    view_name: str | None = None
    children: tuple[NavItem, ...] = ()
    kind: str = "object"
    href: str = ""
    target: str | None = None


def _object_href(name: str, view: str | None) -> str:
    return f"{PREFIX}/o/{name}/" + (f"?view={quote(view)}" if view else "")


def safe_url(url: Any) -> str | None:
    """An outside link the Console may render: http(s), mailto or a path; never
    `javascript:` or another scheme that runs in the page."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "mailto") or (not scheme and url.startswith("/")):
        return url
    return None


class ConsoleSite(AdminSite):
    """The Console of one kernel. `has_permission` is project membership (checked by the
    views' decorator), not `is_staff`: the Console serves the same accounts as the API."""

    site_title = "ObjectOS Console"
    index_title = "Console"
    enable_nav_sidebar = True

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(name=f"console_{kernel.project_name}_{kernel.version_number}")
        self.kernel = kernel
        manifest = kernel.artifact.manifest
        self.site_header = manifest.name or kernel.project_name
        self.pages: dict[str, ObjectPages] = compile_pages(kernel)
        self.bundles = bundles_of(kernel.artifact)
        self.locales = supported_locales(kernel.artifact, self.bundles)
        i18n = kernel.artifact.i18n or {}
        self.default_locale = str(i18n.get("defaultLocale") or self.locales[0])
        self._translators: dict[str, Translator] = {}
        self.dashboards = _named(kernel.artifact.dashboards)
        self.datasets = _named(getattr(kernel.artifact, "datasets", None))
        self.artifact_pages = _named(getattr(kernel.artifact, "pages", None))
        self.reports = _named(getattr(kernel.artifact, "reports", None))

    def nav_filters(self, reference: str) -> dict[str, Any] | None:
        """The `filters` of the navigation item `<app>.<id>` (a data slice), or None."""
        app_name, _, item_id = reference.partition(".")
        for app in self.kernel.artifact.apps:
            if isinstance(app, dict) and app.get("name") == app_name:
                for entry in _walk(app.get("navigation")):
                    if entry.get("id") == item_id and isinstance(entry.get("filters"), dict):
                        return entry["filters"]
        return None

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(getattr(request, "console_member", False))

    def translator(self, locale: str) -> Translator:
        translator = self._translators.get(locale)
        if translator is None:
            translator = Translator(self.kernel.artifact, self.bundles, locale)
            self._translators[locale] = translator
        return translator

    def object_label(self, t: Translator, name: str, plural: bool = False) -> str:
        runtime = self.kernel.object(name)
        definition = runtime.definition
        if plural:
            return t.object_plural(name, definition.plural_label or runtime.label)
        return t.object_label(name, runtime.label)

    def field_label(self, t: Translator, object_name: str, field_name: str) -> str:
        runtime = self.kernel.object(object_name)
        field = runtime.fields.get(field_name)
        default = (field.definition.label if field else None) or field_name.replace(
            "_", " "
        ).capitalize()
        return t.field_label(object_name, field_name, default)

    def navigation(self, ctx: Context, t: Translator) -> list[NavItem]:
        """The apps' navigation trees with only the objects the reader may read; every
        readable object appears, those the artifact's apps leave out under "Objects"."""
        readable = {
            name
            for name, runtime in self.kernel.objects.items()
            if object_access(ctx, runtime).can_read
        }
        seen: set[str] = set()

        def items(app: str, entries: Any) -> tuple[NavItem, ...]:
            out = []
            for entry in entries or ():
                if not isinstance(entry, dict):
                    continue
                kind = entry.get("type")
                label = t.nav_label(app, str(entry.get("id", "")), str(entry.get("label") or ""))
                if kind == "group":
                    children = items(app, entry.get("children"))
                    if children:
                        out.append(NavItem(label or "…", children=children))
                elif kind == "object" and entry.get("objectName") in readable:
                    name = entry["objectName"]
                    seen.add(name)
                    view = entry.get("viewName")
                    view = view if isinstance(view, str) else None
                    out.append(
                        NavItem(
                            label or self.object_label(t, name, plural=True),
                            object_name=name,
                            view_name=view,
                            href=_object_href(name, view)
                            + (f"{'&' if view else '?'}nav={quote(app)}.{quote(str(entry.get('id')))}"
                               if isinstance(entry.get("filters"), dict) else ""),
                        )
                    )  # fmt: skip
                elif kind == "url" and safe_url(entry.get("url")):
                    target = entry.get("target")
                    out.append(NavItem(label or str(entry["url"]), kind="url", href=entry["url"].strip(),
                                       target=target if target in ("_blank", "_self") else None))  # fmt: skip
                elif kind == "dashboard" and entry.get("dashboardName") in self.dashboards:
                    name = entry["dashboardName"]
                    default = str(self.dashboards[name].get("label") or name)
                    out.append(NavItem(label or default, kind="dashboard",
                                       href=f"{PREFIX}/dashboards/{quote(name)}/"))  # fmt: skip
                elif kind in ("page", "report"):
                    name = entry.get("pageName" if kind == "page" else "reportName")
                    if isinstance(name, str) and name:
                        out.append(NavItem(label or name, kind=kind,
                                           href=f"{PREFIX}/{kind}s/{quote(name)}/"))  # fmt: skip
            return tuple(out)

        apps = []
        for app in self.kernel.artifact.apps:
            if not isinstance(app, dict) or app.get("active") is False:
                continue
            name = str(app.get("name") or "")
            children = items(name, app.get("navigation"))
            if children:
                label = t.app_label(name, str(app.get("label") or name))
                apps.append(NavItem(label, children=children))
        rest = tuple(
            NavItem(
                self.object_label(t, name, plural=True),
                object_name=name,
                href=_object_href(name, None),
            )
            for name in self.kernel.objects
            if name in readable and name not in seen
        )
        if rest:
            apps.append(NavItem("Objects" if apps else self.site_header, children=rest))
        return apps


def _named(entries: Any) -> dict[str, dict[str, Any]]:
    """`[{name, ...}]` as a dict by name (entries without a name are skipped)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in entries or ():
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out.setdefault(entry["name"], entry)
    return out


def _walk(entries: Any) -> Any:
    for entry in entries or ():
        if isinstance(entry, dict):
            yield entry
            yield from _walk(entry.get("children"))


_sites: weakref.WeakKeyDictionary[Kernel, ConsoleSite] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def site_for(kernel: Kernel) -> ConsoleSite:
    """The kernel's Console site, built on first use and dropped with the kernel."""
    site = _sites.get(kernel)
    if site is None:
        with _lock:
            site = _sites.get(kernel)
            if site is None:
                site = _sites[kernel] = ConsoleSite(kernel)
    return site
