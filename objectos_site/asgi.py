"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "objectos_site.settings")
application = get_asgi_application()

# Mark this process as a server for `manage.py restore` (a shared lock held until exit).
from apps.ops.serverlock import hold_server_lock  # noqa: E402 (needs the app registry)

hold_server_lock()

# File-backed and cloud-connected boot modes: this web process watches its artifact source.
from apps.ops.boot import start_watcher  # noqa: E402 (needs the app registry)

start_watcher()
