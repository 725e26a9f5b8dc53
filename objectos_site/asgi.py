"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "objectos_site.settings")
application = get_asgi_application()

# Server lock, artifact watcher, URLconf, garbage-collector freeze (apps.ops.startup).
from apps.ops.startup import prepare_server_process  # noqa: E402 (needs the app registry)

prepare_server_process()
