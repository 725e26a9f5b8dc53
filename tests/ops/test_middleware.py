"""Security headers on every answer: API, unknown host, health, metrics; CSP on the Console."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from apps.audit.models import AuditEvent
from apps.ops.middleware import _template
from apps.security.models import ApiKey, hash_secret
from tests import factories

pytestmark = pytest.mark.django_db

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_common_headers(response) -> None:
    assert {name: response.get(name) for name in COMMON} == COMMON
    assert response.get("X-Request-Id")
    assert "Strict-Transport-Security" not in response  # plain HTTP, OS_TLS off


def test_headers_on_api_unknown_host_and_health(demo_client):
    answers = [
        demo_client.get("/api/v1/data/demo_customer"),
        demo_client.get("/api/v1/data/nope"),
        Client(HTTP_HOST="nowhere.test").get("/api/v1/data/demo_customer"),
        Client(HTTP_HOST="nowhere.test").get("/healthz"),
        Client(HTTP_HOST="nowhere.test").get("/readyz"),
        Client().get("/metrics"),
        Client(REMOTE_ADDR="192.0.2.1").get("/metrics"),
    ]
    assert [a.status_code for a in answers] == [200, 404, 404, 200, 200, 200, 403]
    for response in answers:
        assert_common_headers(response)
        assert "Content-Security-Policy" not in response


def test_console_paths_get_a_content_security_policy(demo):
    response = Client(HTTP_HOST="demo.test").get("/_console/")
    assert response["Content-Security-Policy"] == settings.CONSOLE_CONTENT_SECURITY_POLICY
    assert settings.CONSOLE_CONTENT_SECURITY_POLICY.startswith("default-src 'self';")
    assert_common_headers(response)


@override_settings(
    SECURE_HSTS_SECONDS=31536000, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_hsts_on_https_answers_when_tls_is_on(db):
    https = Client(HTTP_X_FORWARDED_PROTO="https").get("/healthz")
    assert https["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in Client().get("/healthz")


@pytest.mark.parametrize("tls", ["1", ""])
def test_os_tls_turns_on_hsts_secure_cookies_and_the_proxy_header(tls, tmp_path, monkeypatch):
    monkeypatch.setenv("OS_TLS", tls)
    monkeypatch.setenv("OS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    values = runpy.run_path(str(Path(settings.BASE_DIR) / "objectos_site" / "settings.py"))
    names = ("SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    secure = [values.get(name) for name in names] + [values.get("SECURE_PROXY_SSL_HEADER")]
    if tls:
        assert secure == [31536000, True, True, ("HTTP_X_FORWARDED_PROTO", "https")]
    else:
        assert secure == [None, None, None, None]  # Django's defaults: 0, False, False, None


@pytest.mark.parametrize(
    ("pattern", "label"),
    [
        ("healthz", "/healthz"),
        ("api/v1/data/(?P<object_name>[a-z][a-z0-9_]{0,62})$", "/api/v1/data/<object_name>"),
        (
            "api/v1/data/(?P<object_name>[a-z]{0,62})/(?P<operation>createMany|batch)$",
            "/api/v1/data/<object_name>/<operation>",
        ),
        ("^x/(?P<a>(b|c)\\))/y$", "/x/<a>/y"),
        ("api/v1/meta/<str:name>", "/api/v1/meta/<str:name>"),
    ],
)
def test_route_labels_are_url_templates(pattern, label):
    assert _template(pattern) == label


# -- the cookie middlewares: skipped by a request authenticated by token alone ----------
CUSTOMERS = "/api/v1/data/demo_customer"


def sign_in(email: str) -> Client:
    """A client that signed in over HTTP: it holds the session cookie sign-in sets."""
    client = Client(HTTP_HOST="demo.test", enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/auth/sign-in/email",
        {"email": email, "password": factories.PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    client.token = response.json()["token"]
    return client


def test_a_token_request_without_cookies_skips_sessions_csrf_and_messages(demo, demo_admin):
    token = sign_in(demo_admin.email).token
    bare = Client(HTTP_HOST="demo.test", enforce_csrf_checks=True)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = bare.get(CUSTOMERS, **bearer)
    created = bare.post(CUSTOMERS, {"name": "Token Ltd"}, content_type="application/json", **bearer)
    assert (listed.status_code, created.status_code) == (200, 201)
    assert created.json()["record"]["name"] == "Token Ltd"
    for response in (listed, created):
        request = response.wsgi_request
        assert not hasattr(request, "session")
        assert not hasattr(request, "_messages")
        assert request.user == demo_admin  # DRF's user, set on Django's request too
        assert not response.cookies  # no session, no CSRF cookie
        assert "Cookie" not in response.get("Vary", "")
        assert_common_headers(response)
    # the audit trail names the token's user, as on the full path
    event = AuditEvent.objects.filter(chain=demo.name, action="create").latest("seq")
    assert (event.record_id, event.actor_user_id) == (created.json()["id"], demo_admin.pk)
    # a wrong token is still refused
    refused = bare.get(CUSTOMERS, HTTP_AUTHORIZATION="Bearer nope")
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid or expired token", "code": "UNAUTHENTICATED"}


def test_an_api_key_request_without_cookies_skips_them_too(demo, demo_admin):
    prefix, key = ApiKey.generate()
    ApiKey.objects.create(
        prefix=prefix, key_hash=hash_secret(key), user=demo_admin, project=demo, name="no cookie"
    )
    response = Client(HTTP_HOST="demo.test").get(CUSTOMERS, HTTP_X_API_KEY=key)
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")


def test_cookies_or_the_auth_routes_keep_the_cookie_middlewares(demo, demo_admin):
    client = sign_in(demo_admin.email)  # holds the session cookie
    assert client.cookies.get(settings.SESSION_COOKIE_NAME)
    # a bearer token next to a cookie: the session middleware runs
    both = client.get(CUSTOMERS, HTTP_AUTHORIZATION=f"Bearer {client.token}")
    assert both.status_code == 200 and hasattr(both.wsgi_request, "session")
    # the session alone authenticates, and CSRF still guards its writes
    assert client.get(CUSTOMERS).status_code == 200
    forged = client.post(CUSTOMERS, {"name": "Forged"}, content_type="application/json")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["error"]
    # signing in with a stale bearer header and no cookie still starts a session
    fresh = Client(HTTP_HOST="demo.test")
    signed_in = fresh.post(
        "/api/v1/auth/sign-in/email",
        {"email": demo_admin.email, "password": factories.PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer stale",
    )
    assert signed_in.status_code == 200
    assert fresh.cookies.get(settings.SESSION_COOKIE_NAME)
