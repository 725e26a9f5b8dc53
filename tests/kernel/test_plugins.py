"""Plugins from OS_PLUGINS and entry points: a failing plugin is reported and disabled alone."""

from __future__ import annotations

import sys

import pytest

from apps.kernel import plugins
from apps.kernel.kernel import Kernel
from apps.projects.context import Context
from tests import factories
from tests.kernel.plugins import good

GOOD = "tests.kernel.plugins.good"
BROKEN = "tests.kernel.plugins.broken"
NO_REGISTER = "tests.kernel.plugins.no_register"
MISSING = "tests.kernel.plugins.missing"


@pytest.fixture
def no_installed_plugins(monkeypatch):
    """Leave out the entry points of the installed distributions (the repository's own
    example plugins): these tests look at OS_PLUGINS alone."""
    monkeypatch.setattr(plugins, "_entry_points", [])


def build() -> Kernel:
    return Kernel.from_raw("plug", 1, 1, factories.demo_artifact())


def test_a_failing_plugin_is_reported_and_disabled_alone(settings, no_installed_plugins):
    settings.OS_PLUGINS = f"{BROKEN}, {GOOD},{NO_REGISTER},{MISSING}"
    kernel = build()
    assert kernel.plugins == [GOOD]
    assert kernel.plugin_errors == [
        {"plugin": BROKEN, "error": "RuntimeError: cannot reach the inventory system"},
        {"plugin": NO_REGISTER, "error": "TypeError: the plugin has no register(kernel) function"},
        {"plugin": MISSING, "error": f"ModuleNotFoundError: No module named '{MISSING}'"},
    ]
    # what the broken plugin registered before failing was taken back
    assert kernel.services.names() == ["inventory.check_stock"]
    assert sorted(kernel.functions) == ["todo.complete"]
    assert len(kernel.topics) == 1
    assert all(not runtime.validators for runtime in kernel.objects.values())
    ctx = Context(request_id="p1", project_name="plug", kernel=kernel)
    assert ctx.call("inventory.check_stock", {"sku": "A-1", "quantity": 9}) == good.Stock(
        sku="A-1", available=False, context="p1.1"
    )
    assert kernel.function("todo.complete")(ctx, id="t1") == {"completed": "t1"}


def test_no_plugins_configured(no_installed_plugins):
    kernel = build()
    assert (kernel.plugins, kernel.plugin_errors, kernel.services.names()) == ([], [], [])


@pytest.fixture
def entry_point_dist(tmp_path):
    """A real installed distribution (a .dist-info on sys.path) declaring two plugins."""
    dist = tmp_path / "objectos_test_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: objectos-test-plugins\n")
    (dist / "entry_points.txt").write_text(
        f"[objectos.plugins]\ninventory = {GOOD}:register\nflaky = {BROKEN}\n"
    )
    sys.path.insert(0, str(tmp_path))
    plugins.discovered_entry_points(refresh=True)
    yield
    sys.path.remove(str(tmp_path))
    plugins.discovered_entry_points(refresh=True)


def test_entry_points_are_discovered(entry_point_dist):
    kernel = build()
    assert [p for p in kernel.plugins if "tests.kernel" in p] == [f"inventory ({GOOD}:register)"]
    assert [e for e in kernel.plugin_errors if "tests.kernel" in e["plugin"]] == [
        {
            "plugin": f"flaky ({BROKEN})",
            "error": "RuntimeError: cannot reach the inventory system",
        }
    ]
    assert "inventory.check_stock" in kernel.services.names()


def test_admins_see_plugin_errors(settings, no_installed_plugins, demo, demo_client):
    settings.OS_PLUGINS = f"{GOOD},{BROKEN}"
    response = demo_client.get("/api/v1/meta/kernel")
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k] for k in ("project", "plugins", "pluginErrors", "services", "functions")
    } == {
        "project": "demo",
        "plugins": [GOOD],
        "pluginErrors": [
            {"plugin": BROKEN, "error": "RuntimeError: cannot reach the inventory system"}
        ],
        "services": ["inventory.check_stock"],
        "functions": ["todo.complete"],
    }
    assert body["subscriptions"] >= 1 and body["outbox"] == {"pending": 0, "dead": 0}
    member = factories.make_user("member@demo.test", demo, permission_sets=[])
    response = factories.api_client(demo, member).get("/api/v1/meta/kernel")
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
