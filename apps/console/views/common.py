"""What every Console page shares: the request's Context, site and language; sign-in
required; errors answered as admin-styled pages with the right status (never a 500)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation

from apps.api.security import is_security_admin
from apps.audit.permissions import may_read_audit
from apps.console.i18n import Translator, choose_locale
from apps.console.site import ConsoleSite, site_for
from apps.kernel.cache import kernels
from apps.kernel.exceptions import NoPublishedVersion, ObjectNotFound
from apps.objectql.exceptions import ObjectQLError
from apps.projects.context import Context
from apps.security.access import applicable_sets
from apps.security.authentication import is_member
from apps.security.principal import principal_of

PREFIX = settings.CONSOLE_PATH_PREFIX
LOCALE_SESSION_KEY = "os_console_locale"
# A permission set's `systemPermissions` naming one of these lets its holders manage the
# app in the Console (upload, approve, roll back): the same right as /api/v1/security/explain.
MANAGE_PERMISSIONS = frozenset({"setup.access", "app.manage"})
# Django's own translations for the admin's strings, by artifact locale prefix.
DJANGO_LANGUAGES = {"zh-cn": "zh-hans", "zh-tw": "zh-hant", "zh": "zh-hans"}


@dataclass
class Console:
    """What a Console view works with."""

    ctx: Context
    site: ConsoleSite
    t: Translator
    locale: str

    @property
    def kernel(self) -> Any:
        return self.ctx.kernel


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def console_context(request: HttpRequest) -> Context:
    route = request.route
    ctx = getattr(request, "os_context", None)
    if ctx is None:
        ctx = Context(
            request_id=request.request_id,
            project_id=route.project_id,
            project_name=route.project_name,
            kernel=kernels.get(route),
            user=request.user if request.user.is_authenticated else None,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        request.os_context = ctx
    return ctx


def may_manage(ctx: Context) -> bool:
    """Superusers and holders of a set with `setup.access` (or `app.manage`)."""
    principal = principal_of(ctx)
    if principal.is_superuser or principal.is_system:
        return True
    return any(
        MANAGE_PERMISSIONS & set(ps.system_permissions or ())
        for ps in applicable_sets(ctx.kernel, principal)
    )


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {400: "Bad request", 403: "Forbidden", 404: "Not found", 409: "Conflict"}
    context = {"title": titles.get(status, "Error"), "message": message, "status": status}
    console = getattr(request, "console", None)
    if console is not None:
        context.update(page_context(request, console))
    return render(request, "console/error.html", context, status=status)


def login_url(request: HttpRequest) -> str:
    return f"{PREFIX}/login/?next={quote(request.get_full_path())}"


def console_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in members only (others: the sign-in page, or 403 for non-members); the
    Console context set up; objectql and kernel errors turned into error pages."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "route", None) is None:
            return error_page(request, 404, "no project is served here")
        if not request.user.is_authenticated:
            return HttpResponseRedirect(login_url(request))
        if not is_member(request.user, request.route.project_id):
            return error_page(request, 403, "you are not a member of this project")
        try:
            ctx = console_context(request)
        except NoPublishedVersion:
            return error_page(request, 404, "this project has no published version yet")
        request.console_member = True
        site = site_for(ctx.kernel)
        wanted = request.GET.get("lang")
        if wanted:
            request.session[LOCALE_SESSION_KEY] = wanted
        locale = choose_locale(
            request.session.get(LOCALE_SESSION_KEY),
            request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
            site.locales,
            site.default_locale,
        )
        request.console = Console(ctx, site, site.translator(locale), locale)
        language = DJANGO_LANGUAGES.get(locale.lower(), locale.lower().split("-")[0])
        with translation.override(language):
            try:
                return view(request, *args, **kwargs)
            except ObjectQLError as error:
                return error_page(request, error.status, error.message)
            except ObjectNotFound as error:
                return error_page(request, 404, f"no object '{error}'")

    return wrapper


def page_context(request: HttpRequest, console: Console, **extra: Any) -> dict[str, Any]:
    """The admin's per-site context plus the Console's navigation and rights."""
    site = console.site
    context = site.each_context(request)
    context.update(
        {
            "prefix": PREFIX,
            "console": console,
            "navigation": site.navigation(console.ctx, console.t),
            "locales": site.locales,
            "locale": console.locale,
            "may_manage": may_manage(console.ctx),
            "may_audit": may_read_audit(console.ctx),
            "may_explain": is_security_admin(console.ctx),
            "site_url": None,
        }
    )
    context.update(extra)
    return context


def page(request: HttpRequest, template: str, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, template, page_context(request, request.console, **extra), status=status)
