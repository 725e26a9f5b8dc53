"""Optional modules a web process imports at startup but seldom or never uses: made
lazy (`defer`), or absent where they cannot be used (`hide`).

DRF's `rest_framework.compat` imports `requests` and `yaml` when they are installed, to
offer `RequestsClient` (tests) and the YAML OpenAPI renderer. Neither serves a data
request, and together they were ~75 ms of a ~0.65 s cold start: `requests` pulls in
urllib3, http.cookiejar and charset_normalizer. `requests` is installed by the dev
extras only; `yaml` comes with cel-python.

`defer` puts a stand-in module in `sys.modules`, so `import yaml` finds it and runs
nothing. The stand-in holds only the module's name and spec; the first other attribute
anyone asks of it (`yaml.safe_load`, `from yaml import dump`, `import yaml.reader`)
imports the real module, puts it in `sys.modules` in the stand-in's place and answers
from it. Code that kept the stand-in (DRF's `compat.yaml`) goes on being answered from
the real module. A module that is missing, or already imported, is left alone: DRF's
`except ImportError` still sees a missing one as missing.

`hide` is for `django.contrib.postgres.fields` on any other database than PostgreSQL:
DRF imports it to map PostgreSQL's model fields, none of which a model on SQLite can
have, and it pulls in psycopg (~70 ms). A `None` in `sys.modules` makes an import of it
raise ImportError, which DRF expects when psycopg is not installed. So in a web process
off PostgreSQL, code of a plugin's that imports it fails there, as it would without psycopg.

The standard library's `importlib.util.LazyLoader` does not do here: the `import`
statement reads `__spec__` of a module found in `sys.modules`, and any attribute read
makes LazyLoader run the module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

# Imported by rest_framework.compat and unused while serving requests.
WEB_PROCESS_DEFERRED = ("requests", "yaml")
# Imported by rest_framework.compat; usable on PostgreSQL only.
POSTGRES_ONLY = ("django.contrib.postgres.fields",)

_lock = threading.RLock()


class Deferred(ModuleType):
    """A stand-in whose first unknown attribute imports the real module."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self.__name__), attr)

    def __dir__(self) -> list[str]:
        return dir(_load(self.__name__))


def _load(name: str) -> ModuleType:
    """The real module: imported in the stand-in's place the first time."""
    with _lock:
        if isinstance(sys.modules.get(name), Deferred):
            del sys.modules[name]
        return importlib.import_module(name)


def defer(*names: str) -> list[str]:
    """Put a stand-in for each installed, not yet imported top-level module; return them."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        stand_in = Deferred(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in
        deferred.append(name)
    return deferred


def hide(*names: str) -> list[str]:
    """Make each module not yet imported raise ImportError when imported; return them."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    return hidden
