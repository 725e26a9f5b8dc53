"""Settings for ObjectOS, read from the environment (see README "Configuration")."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url

from objectos_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_json_object,
    refuse,
)
from objectos_site.file_storage import files_storage

BASE_DIR = Path(__file__).resolve().parent.parent


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
    "apps.jobs",
    "apps.automation",
    "apps.schema",
    "apps.api",
    "apps.console",
    "apps.ops",
]

MIDDLEWARE = [
    # Outermost: times, counts (/metrics) and logs every answer, error answers included.
    "apps.ops.middleware.RequestTelemetryMiddleware",
    # Next, so every answer carries the security headers: also the JSON errors the
    # project middleware returns itself (unknown host, body too large, database down).
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.ops.middleware.ContentSecurityPolicyMiddleware",
    "apps.projects.middleware.RequestContextMiddleware",
    "apps.projects.middleware.RequestBodyLimitMiddleware",
    # The request's root budget (OS_BUDGET_MAX_*): nothing at all when every limit is 0.
    "apps.kernel.middleware.BudgetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's cookie middlewares, skipped by an API request carrying a bearer token or an
    # API key and no cookie (apps.ops.middleware.token_only).
    "apps.ops.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.ops.middleware.CsrfViewMiddleware",
    "apps.ops.middleware.AuthenticationMiddleware",
    "apps.ops.middleware.MessageMiddleware",
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
DATABASES["default"]["CONN_MAX_AGE"] = env_int("OS_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Seconds after a request ended on a connection without a database error during which
# the next request skips the health check's round trip (apps/ops/backends/postgresql).
OS_DB_HEALTH_CHECK_WINDOW = env_float("OS_DB_HEALTH_CHECK_WINDOW", 1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "apps.ops.backends.postgresql"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Fail fast (503 DATABASE_UNAVAILABLE) instead of hanging when the server is unreachable.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("OS_DB_CONNECT_TIMEOUT", 5, minimum=1)
    )
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
OS_MAX_BODY_BYTES = env_int("OS_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = OS_MAX_BODY_BYTES

# Files of file/image/avatar/video/audio fields (apps.objectql.files): local disk under
# OS_DATA_DIR/files, or OS_STORAGE_URL=s3://bucket[/prefix]?endpoint=URL (file_storage.py).
# An upload is capped by the field's maxSize, and by OS_MAX_UPLOAD_BYTES when it says none.
OS_STORAGE_URL = os.environ.get("OS_STORAGE_URL", "")
OS_MAX_UPLOAD_BYTES = env_int("OS_MAX_UPLOAD_BYTES", 100 * 1024 * 1024, minimum=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "files": files_storage(OS_STORAGE_URL, OS_DATA_DIR / "files"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.security.authentication.BearerTokenAuthentication",
        "apps.security.authentication.ApiKeyAuthentication",
        "apps.security.authentication.ProjectSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.ORJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.api.negotiation.JSONFirstNegotiation",
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Runtime knobs (README "Configuration").
OS_KERNEL_CACHE_SIZE = env_int("OS_KERNEL_CACHE_SIZE", 32, minimum=1)
OS_HOST_CACHE_TTL = env_float("OS_HOST_CACHE_TTL", 1.0)
OS_AUTH_CACHE_TTL = env_float("OS_AUTH_CACHE_TTL", 2.0)
# Failed sign-ins per (project, client IP, email) before 429, counted per process.
OS_SIGN_IN_MAX_FAILURES = env_int("OS_SIGN_IN_MAX_FAILURES", 10, minimum=1)
OS_SIGN_IN_WINDOW_SECONDS = env_int("OS_SIGN_IN_WINDOW_SECONDS", 300, minimum=1)
OS_MAX_PAGE_SIZE = env_int("OS_MAX_PAGE_SIZE", 500, minimum=1)
OS_DEFAULT_PAGE_SIZE = env_int("OS_DEFAULT_PAGE_SIZE", 50, minimum=1)
if OS_DEFAULT_PAGE_SIZE > OS_MAX_PAGE_SIZE:
    refuse("OS_DEFAULT_PAGE_SIZE", f"at most OS_MAX_PAGE_SIZE ({OS_MAX_PAGE_SIZE})",
           str(OS_DEFAULT_PAGE_SIZE))  # fmt: skip
OS_MAX_BATCH_SIZE = env_int("OS_MAX_BATCH_SIZE", 200, minimum=1)
OS_TOKEN_TTL_SECONDS = env_int("OS_TOKEN_TTL_SECONDS", 7 * 24 * 3600, minimum=1)
OS_DEFAULT_PROJECT = os.environ.get("OS_DEFAULT_PROJECT", "")
OS_ENV = os.environ.get("OS_ENV", "prod")

# Micro-kernel (apps.kernel, README "Micro-kernel"). Plugins: comma-separated dotted module
# paths, each with register(kernel), loaded into every kernel (plus entry points of group
# objectos.plugins). Budgets per request (0 = off): SQL queries, wall seconds, rows read;
# OS_PROJECT_BUDGETS overrides them per project: {"crm": {"queries": 500, "seconds": 10}}.
OS_PLUGINS = os.environ.get("OS_PLUGINS", "")


def _project_budgets(name: str) -> dict[str, dict[str, float]]:
    budgets = env_json_object(name)
    for project, limits in budgets.items():
        if not isinstance(limits, dict) or not all(
            key in ("queries", "seconds", "rows")
            and isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            for key, value in limits.items()
        ):
            refuse(name, f'{{"<project>": {{"queries"|"seconds"|"rows": number >= 0}}}} '
                   f"(project {project!r})", json.dumps(limits))  # fmt: skip
    return budgets


OS_BUDGET_MAX_QUERIES = env_int("OS_BUDGET_MAX_QUERIES", 0)
OS_BUDGET_MAX_SECONDS = env_float("OS_BUDGET_MAX_SECONDS", 0)
OS_BUDGET_MAX_ROWS = env_int("OS_BUDGET_MAX_ROWS", 0)
OS_PROJECT_BUDGETS = _project_budgets("OS_PROJECT_BUDGETS")

# Flows (apps.automation.flows, README "Flows"): http nodes refuse loopback, private and
# link-local addresses unless allowed; their timeout cap (s); items a loop may iterate.
OS_FLOW_HTTP_ALLOW_PRIVATE = env_bool("OS_FLOW_HTTP_ALLOW_PRIVATE", False)
# Webhooks may reach loopback, private, link-local and reserved addresses (tests, intranets).
OS_WEBHOOK_ALLOW_PRIVATE = env_bool("OS_WEBHOOK_ALLOW_PRIVATE", False)
OS_FLOW_HTTP_TIMEOUT = env_float("OS_FLOW_HTTP_TIMEOUT", 30, minimum=0.1)
OS_FLOW_MAX_ITERATIONS = env_int("OS_FLOW_MAX_ITERATIONS", 1000, minimum=1)

# Boot modes (apps.ops.boot, README "Boot modes"): file-backed when OS_ARTIFACT_FILE is set,
# cloud-connected when OS_CLOUD_URL is set, standalone otherwise.
OS_ARTIFACT_FILE = os.environ.get("OS_ARTIFACT_FILE", "")
OS_PROJECT = os.environ.get("OS_PROJECT", "")
OS_HOSTS = [h.strip() for h in os.environ.get("OS_HOSTS", "").split(",") if h.strip()]
OS_ARTIFACT_POLL_SECONDS = env_float("OS_ARTIFACT_POLL_SECONDS", 2, minimum=0.1)
OS_CLOUD_URL = os.environ.get("OS_CLOUD_URL", "")
OS_CLOUD_API_KEY = os.environ.get("OS_CLOUD_API_KEY", "")
OS_CLOUD_POLL_SECONDS = env_float("OS_CLOUD_POLL_SECONDS", 30, minimum=0.1)
OS_CACHE_DIR = Path(os.environ.get("OS_CACHE_DIR", OS_DATA_DIR / "cache")).resolve()

# Backups (README "Backup and restore"): where `manage.py backup` and the scheduled backup
# write (a folder or s3://bucket/prefix?endpoint=...), the cron schedule (UTC) of the
# scheduled backup (unset: none) and how many snapshots it keeps.
OS_BACKUP_DIR = os.environ.get("OS_BACKUP_DIR", "") or str(OS_DATA_DIR / "backups")
OS_BACKUP_SCHEDULE = os.environ.get("OS_BACKUP_SCHEDULE", "")
OS_BACKUP_KEEP = env_int("OS_BACKUP_KEEP", 7, minimum=1)

Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "objectos"),
    "workers": env_int("OS_WORKERS", 1, minimum=1),
    "timeout": 300,
    "retry": 360,
    "orm": "default",
    "catch_up": False,
}
OS_QUEUE_URL = os.environ.get("OS_QUEUE_URL", "").strip()
if OS_QUEUE_URL.startswith(("redis://", "rediss://")):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = OS_QUEUE_URL
elif OS_QUEUE_URL:
    refuse("OS_QUEUE_URL", "a redis:// or rediss:// address (unset: the database)", OS_QUEUE_URL)

# Workers (apps.jobs, README "Jobs and workers"): heartbeat period, and how many missed
# heartbeats make a worker down (its unfinished jobs are then retried).
OS_WORKER_HEARTBEAT_SECONDS = env_float("OS_WORKER_HEARTBEAT_SECONDS", 5, minimum=0.1)
OS_WORKER_DOWN_AFTER = env_int("OS_WORKER_DOWN_AFTER", 3, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# apps.ops.middleware.ContentSecurityPolicyMiddleware sets this on the Console's pages.
CONSOLE_PATH_PREFIX = "/_console"
CONSOLE_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# A web process freezes the garbage collector's view of its startup (apps.ops.startup).
OS_GC_FREEZE = env_bool("OS_GC_FREEZE", True)
OS_TLS = env_bool("OS_TLS", False)
if OS_TLS:
    # Served over HTTPS, usually by a TLS-terminating proxy that sets X-Forwarded-Proto
    # (and drops any value a client sent): HSTS, secure cookies, HTTPS-aware CSRF checks.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000

# Bearer token /metrics requires when set; unset: loopback clients only (apps.ops.exporter).
OS_METRICS_TOKEN = os.environ.get("OS_METRICS_TOKEN", "")

# One line per record on stderr: JSON (apps.ops.logging) or text (OS_LOG_FORMAT=text), each
# with the request id; one line per request from `objectos.request` (OS_ACCESS_LOG=0: off).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.ops.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "apps.ops.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env_choice("OS_LOG_FORMAT", "json", ("json", "text")),
        }
    },
    "root": {"handlers": ["console"], "level": env_choice("OS_LOG_LEVEL", "WARNING", LOG_LEVELS, upper=True)},
    "loggers": {
        "objectos.request": {"level": "INFO" if env_bool("OS_ACCESS_LOG", True) else "WARNING"},
        "objectos.boot": {"level": "INFO"},
    },
}
