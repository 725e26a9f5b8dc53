"""The kernel as a micro-kernel: build hooks, services through ctx.call and the context
tree, functions, and the validators objectql calls inside its write transactions."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from apps.audit.models import AuditEvent
from apps.kernel.cache import kernels
from apps.kernel.extensions import on_kernel_build, remove_build_hook
from apps.kernel.kernel import Kernel
from apps.kernel.services import UnknownService
from apps.objectql.exceptions import ValidationFailed
from apps.projects.context import Context, current_context
from tests import factories


def kernel_of(project) -> Kernel:
    return kernels.get_version(project.name, project.published_version_id)


def test_build_hooks_run_at_the_end_of_every_kernel_build():
    seen = []

    def attach(kernel):
        seen.append((kernel.project_name, sorted(kernel.objects)[:2], len(kernel.plugin_errors)))
        kernel.register_function("hooked", lambda ctx: "yes")

    on_kernel_build(attach)
    on_kernel_build(attach)  # registering twice runs it once
    try:
        kernel = Kernel.from_raw("hooks", 1, 1, factories.demo_artifact())
    finally:
        assert remove_build_hook(attach)
    assert seen == [("hooks", ["demo_customer", "demo_invoice"], 0)]
    assert kernel.function("hooked")(None) == "yes"
    with pytest.raises(LookupError, match="unknown function 'nope'; known: hooked"):
        kernel.function("nope")
    Kernel.from_raw("hooks", 1, 1, factories.demo_artifact())
    assert len(seen) == 1  # removed: no longer runs


class Order(BaseModel):
    sku: str
    quantity: int


def test_ctx_call_runs_services_in_child_contexts_named_by_the_chain(caplog):
    kernel = Kernel.from_raw("tree", 1, 1, factories.demo_artifact())
    ctx = Context(request_id="100", project_name="tree", kernel=kernel)
    kernel.provide("tree.where", lambda c, payload: (c.context_id, current_context.get() is c))
    kernel.provide(
        "tree.nested", lambda c, payload: [c.context_id, c.call("tree.where"), c.call("tree.where")]
    )
    kernel.provide("tree.order", lambda c, order: order.quantity * 2, input=Order)
    assert ctx.context_id == "100"
    assert ctx.call("tree.where") == ("100.1", True)
    assert ctx.call("tree.nested") == ["100.2", ("100.2.1", True), ("100.2.2", True)]
    assert ctx.call("tree.order", {"sku": "A", "quantity": 4}) == 8
    # replaced at runtime: the next call sees the new provider
    kernel.provide("tree.where", lambda c, payload: "replaced")
    assert ctx.call("tree.where") == "replaced"

    def fail(c, payload):
        raise ValueError("the warehouse is closed")

    kernel.provide("tree.fail", fail)
    kernel.provide("tree.outer", lambda c, payload: c.call("tree.fail"))
    with caplog.at_level(logging.INFO, logger="objectos.services"):
        with pytest.raises(ValueError) as error:
            ctx.call("tree.outer")
    assert error.value.__notes__ == ["in service 'tree.fail' (context 100.5.1)"]
    calls = [r for r in caplog.records if r.name == "objectos.services"]
    assert [(r.service, r.context, r.outcome) for r in calls] == [
        ("tree.fail", "100.5.1", "error"),
        ("tree.outer", "100.5", "error"),
    ]
    with pytest.raises(UnknownService, match="unknown service 'tree.nope'; known: tree.fail"):
        ctx.call("tree.nope")
    no_kernel = Context(request_id="200")
    with pytest.raises(LookupError, match="context 200 has no kernel to call 'x' on"):
        no_kernel.call("x")


def test_fork_keeps_the_actor_and_request():
    root = Context(request_id="r", project_id=3, project_name="p", ip="1.2.3.4", is_system=True)
    child = root.fork()
    grandchild = child.fork(project_name="q")
    assert (child.context_id, child.request_id, child.project_id, child.ip, child.is_system) == (
        "r.1",
        "r",
        3,
        "1.2.3.4",
        True,
    )
    assert (grandchild.context_id, grandchild.project_name, grandchild.parent is child) == (
        "r.1.1",
        "q",
        True,
    )
    assert root.fork().context_id == "r.2"


# --- validators inside objectql writes ---------------------------------------------------


def _gold_needs_email(calls: list):
    def validator(ctx, runtime, event, record, previous):
        calls.append((event, runtime.name, record.get("name"), (previous or {}).get("tier")))
        if record.get("tier") == "gold" and not record.get("email"):
            raise ValidationFailed(
                "validation failed",
                fields=[
                    {"field": "email", "code": "required", "message": "gold customers need one"}
                ],
            )

    return validator


def _refused(field: str) -> dict:
    return {
        "error": "validation failed",
        "code": "VALIDATION_FAILED",
        "fields": [{"field": field, "code": "required", "message": "gold customers need one"}],
    }


def test_validators_refuse_creates_and_updates(demo, demo_client):
    calls: list = []
    kernel_of(demo).objects["demo_customer"].validators.append(_gold_needs_email(calls))
    customers = kernel_of(demo).objects["demo_customer"].model._base_manager
    audits = AuditEvent.objects.filter(object_name="demo_customer").count()

    response = demo_client.post(
        "/api/v1/data/demo_customer", {"name": "Gold Co", "tier": "gold"}, format="json"
    )
    assert (response.status_code, response.json()) == (400, _refused("email"))
    assert not customers.filter(name="Gold Co").exists()
    assert calls == [("insert", "demo_customer", "Gold Co", None)]

    response = demo_client.post(
        "/api/v1/data/demo_customer",
        {"name": "Gold Co", "tier": "gold", "email": "gold@example.com"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    response = demo_client.patch(
        f"/api/v1/data/demo_customer/{record_id}", {"email": None}, format="json"
    )
    assert (response.status_code, response.json()) == (400, _refused("email"))
    assert customers.get(pk=record_id).email == "gold@example.com"
    # the update validator sees the merged record and the stored one
    assert calls[-1] == ("update", "demo_customer", "Gold Co", "gold")
    response = demo_client.patch(
        f"/api/v1/data/demo_customer/{record_id}", {"tier": "standard"}, format="json"
    )
    assert response.status_code == 200 and response.json()["record"]["tier"] == "standard"
    # one create and one update were written; the refused writes left nothing
    assert AuditEvent.objects.filter(object_name="demo_customer").count() == audits + 2


def test_validators_refuse_a_whole_batch_naming_the_item(demo, demo_client):
    calls: list = []
    kernel_of(demo).objects["demo_customer"].validators.append(_gold_needs_email(calls))
    customers = kernel_of(demo).objects["demo_customer"].model._base_manager
    before = customers.count()
    response = demo_client.post(
        "/api/v1/data/demo_customer/createMany",
        {"records": [{"name": "Fine"}, {"name": "Bad", "tier": "gold"}]},
        format="json",
    )
    assert (response.status_code, response.json()) == (400, _refused("records[1].email"))
    assert customers.count() == before
    # two customers that are not platinum yet (the seed has a platinum one)
    existing = list(customers.exclude(tier="platinum").values_list("pk", flat=True)[:2])
    response = demo_client.post(
        "/api/v1/data/demo_customer/updateMany",
        {
            "records": [
                {"id": existing[0], "tier": "platinum"},
                {"id": existing[1], "tier": "gold", "email": None},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"][0]["field"] == "records[1].email"
    assert customers.filter(tier="platinum", pk=existing[0]).count() == 0  # all or nothing
    assert [c[0] for c in calls] == ["insert", "insert", "update", "update"]
