"""Security headers on every answer: API, unknown host, health, metrics; CSP on the Console."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from apps.ops.middleware import _template

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
