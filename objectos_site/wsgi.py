"""WSGI entry point (gunicorn objectos_site.wsgi)."""

import gc
import os

# No cyclic garbage collection while the process imports and sets up: its ~1 s of
# imports make objects that live as long as it does, and the collector kept walking
# them (~10% of the startup). apps.ops.startup freezes them and turns it back on.
gc.disable()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "objectos_site.settings")

# `requests` and `yaml`, which DRF imports for features no request uses, load on first
# use rather than at startup, and off PostgreSQL DRF's PostgreSQL fields (and psycopg
# with them) are not imported at all (apps.ops.lazyimports).
from django.conf import settings  # noqa: E402

from apps.ops import lazyimports  # noqa: E402

lazyimports.defer(*lazyimports.WEB_PROCESS_DEFERRED)
if not settings.IS_POSTGRES:
    lazyimports.hide(*lazyimports.POSTGRES_ONLY)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# Server lock, artifact watcher, URLconf, garbage-collector freeze (apps.ops.startup).
from apps.ops.startup import prepare_server_process  # noqa: E402 (needs the app registry)

prepare_server_process()
