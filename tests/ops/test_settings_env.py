"""Settings from the environment (objectos_site.env): a value the setting cannot take
stops the process with one line naming the variable, the rule and the value."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from objectos_site.env import env_bool, env_choice, env_float, env_int, env_json_object

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "objectos_site" / "settings.py"


def refused(call) -> str:
    with pytest.raises(SystemExit) as stopped:
        call()
    return str(stopped.value)


@pytest.mark.parametrize(("raw", "value"), [(None, 7), ("", 7), (" 12 ", 12), ("0", 0)])
def test_a_whole_number_or_the_default(monkeypatch, raw, value):
    if raw is None:
        monkeypatch.delenv("OS_X", raising=False)
    else:
        monkeypatch.setenv("OS_X", raw)
    assert env_int("OS_X", 7) == value


@pytest.mark.parametrize(("read", "raw", "message"), [
    (env_int, "ten", "OS_X must be a whole number, not 'ten'"),
    (env_int, "1.5", "OS_X must be a whole number, not '1.5'"),
    (env_int, "0", "OS_X must be a whole number of at least 1, not '0'"),
    (env_float, "soon", "OS_X must be a number, not 'soon'"),
    (env_float, "nan", "OS_X must be a number of at least 1, not 'nan'"),
    (env_float, "inf", "OS_X must be a number of at least 1, not 'inf'"),
    (env_float, "0.5", "OS_X must be a number of at least 1, not '0.5'"),
])  # fmt: skip
def test_a_number_refused(monkeypatch, read, raw, message):
    monkeypatch.setenv("OS_X", raw)
    assert refused(lambda: read("OS_X", 7, minimum=1)) == message


def test_a_fractional_minimum_is_named_as_given(monkeypatch):
    monkeypatch.setenv("OS_X", "0.05")
    assert refused(lambda: env_float("OS_X", 2, minimum=0.1)) == (
        "OS_X must be a number of at least 0.1, not '0.05'"
    )


def test_a_number_or_the_default(monkeypatch):
    monkeypatch.setenv("OS_X", "0.25")
    assert env_float("OS_X", 2, minimum=0.1) == 0.25
    monkeypatch.setenv("OS_X", "")
    assert env_float("OS_X", 2, minimum=0.1) == 2


@pytest.mark.parametrize(("raw", "value"), [
    ("1", True), ("TRUE", True), ("on", True), ("yes", True),
    ("0", False), ("False", False), ("off", False), ("no", False), ("", None),
])  # fmt: skip
def test_a_switch(monkeypatch, raw, value):
    monkeypatch.setenv("OS_X", raw)
    assert env_bool("OS_X", default=None) is value  # type: ignore[arg-type]


def test_a_switch_refused(monkeypatch):
    monkeypatch.setenv("OS_X", "enabled")
    assert refused(lambda: env_bool("OS_X")) == (
        "OS_X must be one of 1, true, yes, on, 0, false, no, off, not 'enabled'"
    )


def test_a_choice(monkeypatch):
    monkeypatch.setenv("OS_X", "info")
    assert env_choice("OS_X", "WARNING", ("INFO", "WARNING"), upper=True) == "INFO"
    assert refused(lambda: env_choice("OS_X", "WARNING", ("INFO", "WARNING"))) == (
        "OS_X must be one of INFO, WARNING, not 'info'"
    )


def test_a_json_object(monkeypatch):
    monkeypatch.setenv("OS_X", '{"a": {"b": 1}}')
    assert env_json_object("OS_X") == {"a": {"b": 1}}
    for raw in ("{not json", "[1, 2]"):
        monkeypatch.setenv("OS_X", raw)
        assert refused(lambda: env_json_object("OS_X")) == f"OS_X must be a JSON object, not {raw!r}"


def settings_with(monkeypatch, tmp_path, **env: str) -> dict:
    monkeypatch.setenv("OS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


@pytest.mark.parametrize(("env", "message"), [
    ({"OS_CONN_MAX_AGE": "ten"}, "OS_CONN_MAX_AGE must be a whole number, not 'ten'"),
    ({"OS_KERNEL_CACHE_SIZE": "0"},
     "OS_KERNEL_CACHE_SIZE must be a whole number of at least 1, not '0'"),
    ({"OS_DB_HEALTH_CHECK_WINDOW": "-1"},
     "OS_DB_HEALTH_CHECK_WINDOW must be a number of at least 0, not '-1'"),
    ({"OS_MAX_PAGE_SIZE": "100", "OS_DEFAULT_PAGE_SIZE": "200"},
     "OS_DEFAULT_PAGE_SIZE must be at most OS_MAX_PAGE_SIZE (100), not '200'"),
    ({"OS_QUEUE_URL": "amqp://guest@127.0.0.1"},
     "OS_QUEUE_URL must be a redis:// or rediss:// address (unset: the database), "
     "not 'amqp://guest@127.0.0.1'"),
    ({"OS_PROJECT_BUDGETS": '{"crm": {"queries": -1}}'},
     'OS_PROJECT_BUDGETS must be {"<project>": {"queries"|"seconds"|"rows": number >= 0}} '
     "(project 'crm'), not '{\"queries\": -1}'"),
    ({"OS_PROJECT_BUDGETS": '{"crm": {"minutes": 5}}'},
     'OS_PROJECT_BUDGETS must be {"<project>": {"queries"|"seconds"|"rows": number >= 0}} '
     "(project 'crm'), not '{\"minutes\": 5}'"),
    ({"OS_LOG_FORMAT": "xml"}, "OS_LOG_FORMAT must be one of json, text, not 'xml'"),
    ({"OS_TLS": "maybe"}, "OS_TLS must be one of 1, true, yes, on, 0, false, no, off, not 'maybe'"),
    ({"OS_GC_FREEZE": "later"},
     "OS_GC_FREEZE must be one of 1, true, yes, on, 0, false, no, off, not 'later'"),
])  # fmt: skip
def test_settings_refuse_a_bad_value(monkeypatch, tmp_path, env, message):
    assert refused(lambda: settings_with(monkeypatch, tmp_path, **env)) == message


def test_settings_take_good_values(monkeypatch, tmp_path):
    values = settings_with(
        monkeypatch, tmp_path, OS_CONN_MAX_AGE="0", OS_QUEUE_URL="redis://127.0.0.1:6379/0",
        OS_PROJECT_BUDGETS='{"crm": {"queries": 500, "seconds": 2.5}}', OS_LOG_LEVEL="info",
    )  # fmt: skip
    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == 0
    assert values["Q_CLUSTER"]["redis"] == "redis://127.0.0.1:6379/0"
    assert "orm" not in values["Q_CLUSTER"]
    assert values["OS_PROJECT_BUDGETS"] == {"crm": {"queries": 500, "seconds": 2.5}}
    assert values["LOGGING"]["root"]["level"] == "INFO"


def test_a_command_stops_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OS_DATA_DIR=str(tmp_path), OS_CONN_MAX_AGE="ten")
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", "OS_CONN_MAX_AGE must be a whole number, not 'ten'\n"
    )
