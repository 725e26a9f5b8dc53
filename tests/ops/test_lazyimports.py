"""Modules made lazy for the web process (apps.ops.lazyimports): imported by name at
startup, executed only on first use, and then the real module. Real processes: a lazy
module is process-wide state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="objectos_site.settings")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_the_web_process_starts_without_running_yaml_or_requests(tmp_path):
    # urllib3 is what `requests` would have pulled in; http.cookiejar likewise.
    out = run("""
import sys
import objectos_site.wsgi
import rest_framework.compat as compat
print(compat.yaml is sys.modules["yaml"], "yaml.reader" in sys.modules,
      "urllib3" in sys.modules, "http.cookiejar" in sys.modules)
""", tmp_path)
    assert out == ["True", "False", "False", "False"]


def test_a_deferred_module_is_the_real_one_on_first_use(tmp_path):
    out = run("""
import sys
from apps.ops.lazyimports import defer
print(defer("yaml", "os", "no_such_module_here"))
import yaml
print("yaml.reader" in sys.modules)
print(yaml.safe_load("a: [1, 2]"))
print("yaml.reader" in sys.modules, type(sys.modules["yaml"]).__name__)
from yaml import safe_dump
print(safe_dump is sys.modules["yaml"].safe_dump is yaml.safe_dump)
""", tmp_path)
    # os was imported by the interpreter already and the missing module stays missing.
    assert out == ["['yaml']", "False", "{'a':", "[1,", "2]}", "True", "module", "True"]


def test_a_submodule_import_loads_its_package_first(tmp_path):
    out = run("""
import sys
from apps.ops.lazyimports import defer
defer("yaml")
import yaml.reader
print(type(sys.modules["yaml"]).__name__, yaml.reader is sys.modules["yaml.reader"])
""", tmp_path)
    assert out == ["module", "True"]
