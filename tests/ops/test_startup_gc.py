"""The web process's start (objectos_site.wsgi, apps.ops.startup): the garbage collector
is off while it imports and back on, with the startup's objects frozen, once it serves.
A real process: the import of the WSGI module is what is measured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, sys
enabled_at_import = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "django.core.wsgi":
            enabled_at_import.append(gc.isenabled())
        return None
sys.meta_path.insert(0, Watch())
import objectos_site.wsgi
print(enabled_at_import[0], gc.isenabled(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize(("freeze", "frozen"), [("1", "True"), ("0", "False")])
def test_the_collector_is_off_for_the_imports_and_on_to_serve(tmp_path, freeze, frozen):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OS_DATA_DIR=str(tmp_path), OS_GC_FREEZE=freeze,
               DJANGO_SETTINGS_MODULE="objectos_site.settings")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", frozen]
