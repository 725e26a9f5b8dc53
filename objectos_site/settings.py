"""Settings for ObjectOS, read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


OS_DATA_DIR = Path(os.environ.get("OS_DATA_DIR", BASE_DIR / "var")).resolve()
OS_DATA_DIR.mkdir(parents=True, exist_ok=True)


def _auth_secret() -> str:
    """OS_AUTH_SECRET, or a random key kept in the data dir so sessions survive restarts."""
    secret = os.environ.get("OS_AUTH_SECRET")
    if secret:
        return secret
    path = OS_DATA_DIR / "auth_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _auth_secret()
OS_AUTH_SECRET = SECRET_KEY
DEBUG = env_bool("OS_DEBUG", False)
# Hosts are routed by apps.projects (Domain table); unknown hosts get a JSON 404 there.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "guardian",
    "django_q",
    "apps.projects",
    "apps.kernel",
    "apps.security",
    "apps.audit",
    "apps.objectql",
    "apps.schema",
    "apps.api",
    "apps.ops",
]

MIDDLEWARE = [
    # Outermost, so every answer carries the security headers: also the JSON errors the
    # project middleware returns itself (unknown host, body too large).
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.projects.middleware.RequestContextMiddleware",
    "apps.projects.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "objectos_site.urls"
WSGI_APPLICATION = "objectos_site.wsgi.application"
ASGI_APPLICATION = "objectos_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PATH = OS_DATA_DIR / "objectos.sqlite3"
SQLITE_OPTIONS = {
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock up front
    # so two writers queue on busy_timeout instead of failing with "database is locked".
    "init_command": (
        "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=10000;PRAGMA foreign_keys=ON;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 10,
}

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": SQLITE_OPTIONS,
            "TEST": {"NAME": str(OS_DATA_DIR / "test.sqlite3")},
        }
    }
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Keep connections across requests (each gthread thread holds one); health-checked on reuse.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("OS_CONN_MAX_AGE", 600))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    DATABASES["default"].setdefault("TEST", {"NAME": str(OS_DATA_DIR / "test.sqlite3")})
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = OS_DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Largest request body (413 PAYLOAD_TOO_LARGE above it; apps.projects.middleware and the
# JSON parser). File parts of multipart uploads are not counted.
OS_MAX_BODY_BYTES = int(os.environ.get("OS_MAX_BODY_BYTES", 5 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = OS_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.security.authentication.BearerTokenAuthentication",
        "apps.security.authentication.ApiKeyAuthentication",
        "apps.security.authentication.ProjectSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.ORJSONParser"],
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Runtime knobs (README "Configuration").
OS_KERNEL_CACHE_SIZE = int(os.environ.get("OS_KERNEL_CACHE_SIZE", 32))
OS_HOST_CACHE_TTL = float(os.environ.get("OS_HOST_CACHE_TTL", 1.0))
OS_AUTH_CACHE_TTL = float(os.environ.get("OS_AUTH_CACHE_TTL", 2.0))
# Failed sign-ins per (project, client IP, email) before 429, counted per process.
OS_SIGN_IN_MAX_FAILURES = int(os.environ.get("OS_SIGN_IN_MAX_FAILURES", 10))
OS_SIGN_IN_WINDOW_SECONDS = int(os.environ.get("OS_SIGN_IN_WINDOW_SECONDS", 300))
OS_MAX_PAGE_SIZE = int(os.environ.get("OS_MAX_PAGE_SIZE", 500))
OS_DEFAULT_PAGE_SIZE = int(os.environ.get("OS_DEFAULT_PAGE_SIZE", 50))
OS_MAX_BATCH_SIZE = int(os.environ.get("OS_MAX_BATCH_SIZE", 200))
OS_TOKEN_TTL_SECONDS = int(os.environ.get("OS_TOKEN_TTL_SECONDS", 7 * 24 * 3600))
OS_DEFAULT_PROJECT = os.environ.get("OS_DEFAULT_PROJECT", "")
OS_ENV = os.environ.get("OS_ENV", "prod")

Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "objectos"),
    "workers": int(os.environ.get("OS_WORKERS", 1)),
    "timeout": 300,
    "retry": 360,
    "orm": "default",
    "catch_up": False,
}
if os.environ.get("OS_QUEUE_URL", "").startswith("redis://"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = os.environ["OS_QUEUE_URL"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("OS_TLS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OS_LOG_LEVEL", "WARNING")},
}
