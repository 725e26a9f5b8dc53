"""WSGI entry point (gunicorn objectos_site.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "objectos_site.settings")
application = get_wsgi_application()

# Server lock, artifact watcher, URLconf, garbage-collector freeze (apps.ops.startup).
from apps.ops.startup import prepare_server_process  # noqa: E402 (needs the app registry)

prepare_server_process()
