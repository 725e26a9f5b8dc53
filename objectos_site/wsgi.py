"""WSGI entry point (gunicorn objectos_site.wsgi)."""

import gc
import os

# No cyclic garbage collection while the process imports and sets up: its ~1 s of
# imports make objects that live as long as it does, and the collector kept walking
# them (~10% of the startup). apps.ops.startup freezes them and turns it back on.
gc.disable()

# `requests` and `yaml`, which DRF imports for features no request uses, load on first
# use rather than at startup (apps.ops.lazyimports).
from apps.ops.lazyimports import WEB_PROCESS_DEFERRED, defer  # noqa: E402

defer(*WEB_PROCESS_DEFERRED)

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "objectos_site.settings")
application = get_wsgi_application()

# Server lock, artifact watcher, URLconf, garbage-collector freeze (apps.ops.startup).
from apps.ops.startup import prepare_server_process  # noqa: E402 (needs the app registry)

prepare_server_process()
