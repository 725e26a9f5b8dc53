"""Baseline (b): hand-tuned plain Django views, the smallest middleware stack."""

from common.settings_base import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "common",
]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ROOT_URLCONF = "plain_app.urls"
WSGI_APPLICATION = "plain_app.wsgi.application"
