"""Console sign-in and sign-out: the API's accounts, memberships, throttle and audit rows."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit import record as audit
from apps.console.views.common import PREFIX, client_ip, error_page
from apps.objectql.transactions import write_transaction
from apps.projects.context import Context
from apps.security.authentication import is_member


class SignInForm(forms.Form):
    email = forms.CharField(label="Email", max_length=254,
                            widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))  # fmt: skip
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))  # fmt: skip


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure())
    return wanted if safe and wanted.startswith(PREFIX + "/") else PREFIX + "/"


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    route = getattr(request, "route", None)
    if route is None:
        return error_page(request, 404, "no project is served here")
    if request.user.is_authenticated and is_member(request.user, route.project_id):
        return HttpResponseRedirect(_next(request))
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ctx = Context(request_id=request.request_id, project_id=route.project_id,
                      project_name=route.project_name, ip=client_ip(request),
                      user_agent=request.META.get("HTTP_USER_AGENT", ""))  # fmt: skip
        attempts = f"os:sign-in:{route.project_id}:{ctx.ip}:{email}"  # shared with the API
        if cache.get(attempts, 0) >= settings.OS_SIGN_IN_MAX_FAILURES:
            with write_transaction():
                audit.record(ctx, "auth.sign_in_throttled", details={"email": email})
            form.add_error(None, "Too many failed sign-ins; try again later.")
            status = 429
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is None or not is_member(user, route.project_id):
                with write_transaction():
                    audit.record(ctx, "auth.sign_in_failed",
                                 details={"email": email, "method": "console"})  # fmt: skip
                cache.add(attempts, 0, settings.OS_SIGN_IN_WINDOW_SECONDS)
                cache.incr(attempts)
                form.add_error(None, "Invalid email or password.")
                status = 401
            else:
                cache.delete(attempts)
                login(request, user)
                ctx.user = user
                with write_transaction():
                    audit.record(ctx, "auth.sign_in", details={"method": "console"})
                return HttpResponseRedirect(_next(request))
    elif request.method == "POST":
        status = 400
    context = {"form": form, "next": _next(request), "title": "Sign in", "prefix": PREFIX,
               "site_header": route.project_name}  # fmt: skip
    return render(request, "console/login.html", context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(PREFIX + "/login/")
