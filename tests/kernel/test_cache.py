"""Many projects in one process: Host picks the project, kernels live in an LRU."""

from __future__ import annotations

import pytest
from django.apps import apps as global_apps

from apps.kernel.cache import KernelCache, kernels
from apps.projects.hosts import resolve_host
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def artifact(namespace: str, object_name: str) -> dict:
    return {
        "manifest": {"id": namespace, "namespace": namespace},
        "objects": [{"name": object_name, "fields": {"name": {"type": "text"}}}],
    }


def test_host_header_routes_to_its_project_and_kernels_are_cached():
    alpha = factories.publish_artifact(
        "alpha", artifact("alpha", "alpha_thing"), hosts=["alpha.test", "www.alpha.test"]
    )
    beta = factories.publish_artifact("beta", artifact("beta", "beta_thing"), hosts=["beta.test"])
    admin = factories.make_user("root@multi.test", alpha, superuser=True)
    factories.make_user("root@multi.test", beta)
    a, b = factories.api_client(alpha, admin), factories.api_client(beta, admin)
    kernels.hits = kernels.misses = 0

    assert a.get("/api/v1/data/alpha_thing").status_code == 200
    assert a.get("/api/v1/data/alpha_thing", HTTP_HOST="www.alpha.test:8000").status_code == 200
    assert a.get("/api/v1/data/beta_thing").json()["code"] == "OBJECT_NOT_FOUND"
    assert b.get("/api/v1/data/beta_thing").status_code == 200
    assert (kernels.misses, kernels.hits) == (2, 2)
    # generated models never enter Django's global registry
    assert not any(
        m._meta.db_table.startswith(("alpha__", "beta__")) for m in global_apps.get_models()
    )
    assert resolve_host("ALPHA.test:443").project_name == "alpha"
    assert resolve_host("gamma.test") is None


def test_lru_evicts_least_recently_used():
    projects = [
        factories.publish_artifact(f"lru{i}", artifact(f"lru{i}", f"lru{i}_x")) for i in range(3)
    ]
    cache = KernelCache(size=2)
    routes = [resolve_host(f"lru{i}.test") for i in range(3)]
    first = cache.get(routes[0])
    cache.get(routes[1])
    assert cache.get(routes[0]) is first  # hit: lru0 becomes most recent
    cache.get(routes[2])  # evicts lru1
    assert (len(cache), cache.evictions, cache.misses, cache.hits) == (2, 1, 3, 1)
    cache.get(routes[1])
    assert cache.misses == 4 and cache.evictions == 2
    assert len(projects) == 3


def test_building_a_kernel_leaves_the_user_models_relations_alone():
    from django.contrib.auth import get_user_model

    from apps.artifact.load import load_artifact
    from apps.kernel.kernel import Kernel

    user_meta = get_user_model()._meta
    before = sorted(r.related_model._meta.label for r in user_meta.related_objects)
    kernel = Kernel("iso", 1, 1, load_artifact(factories.demo_artifact()))
    for runtime in kernel.objects.values():  # computing reverse relations of kernel models
        list(runtime.model._meta.related_objects)

    assert sorted(r.related_model._meta.label for r in user_meta.related_objects) == before
    assert "os_security.Membership" in before
