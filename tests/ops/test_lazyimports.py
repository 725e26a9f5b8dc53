"""Modules made lazy for the web process (apps.ops.lazyimports): imported by name at
startup, executed only on first use, and then the real module. Real processes: a lazy
module is process-wide state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, tmp_path: Path, database_url: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="objectos_site.settings")
    if database_url:
        env["DATABASE_URL"] = database_url
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


# The web process's own start does not connect: any PostgreSQL address will do.
@pytest.mark.parametrize(("database_url", "imported"), [
    (None, ["None", "False"]),
    ("postgres://objectos@127.0.0.1:9/unused", ["HStoreField", "True"]),
])  # fmt: skip
def test_drf_imports_postgresql_fields_on_postgresql_only(tmp_path, database_url, imported):
    out = run("""
import sys
import objectos_site.wsgi
import rest_framework.compat as compat
print(getattr(compat.postgres_fields, "HStoreField", None).__name__ if compat.postgres_fields
      else None, "psycopg" in sys.modules)
""", tmp_path, database_url)
    assert out == imported


def test_a_hidden_module_is_missing_and_an_imported_one_is_kept(tmp_path):
    out = run("""
from apps.ops.lazyimports import hide
print(hide("django.contrib.postgres.fields", "os"))
try:
    from django.contrib.postgres import fields
except ImportError as error:
    print(type(error).__name__)
""", tmp_path)
    assert out == ["['django.contrib.postgres.fields']", "ModuleNotFoundError"]


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
