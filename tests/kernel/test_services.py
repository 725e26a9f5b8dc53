"""The service registry: validation, replacement at runtime, unknown services."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from apps.kernel.services import (
    InvalidServiceInput,
    InvalidServiceOutput,
    ServiceRegistry,
    UnknownService,
)
from apps.projects.context import Context


class StockQuery(BaseModel):
    sku: str
    quantity: int = 1


class Stock(BaseModel):
    sku: str
    available: bool


CTX = Context(request_id="r-1", project_name="demo")


def test_call_validates_input_and_output():
    registry = ServiceRegistry()
    registry.provide(
        "inventory.check_stock",
        lambda ctx, q: {"sku": q.sku, "available": q.quantity < 5},
        input=StockQuery,
        output=Stock,
    )
    assert registry.call(CTX, "inventory.check_stock", {"sku": "A-1", "quantity": 3}) == Stock(
        sku="A-1", available=True
    )
    with pytest.raises(InvalidServiceInput) as error:
        registry.call(CTX, "inventory.check_stock", {"quantity": "many"})
    assert str(error.value) == (
        "inventory.check_stock: sku: Field required; quantity: Input "
        "should be a valid integer, unable to parse string as an "
        "integer"
    )
    registry.provide(
        "inventory.check_stock", lambda ctx, q: {"sku": q.sku}, input=StockQuery, output=Stock
    )
    with pytest.raises(InvalidServiceOutput):
        registry.call(CTX, "inventory.check_stock", {"sku": "A-1"})


def test_provider_replaced_at_runtime_and_unknown_service():
    registry = ServiceRegistry()
    registry.provide("greet", lambda ctx, name: f"hello {name}")
    call = registry.call
    assert call(CTX, "greet", "ann") == "hello ann"
    registry.provide("greet", lambda ctx, name: f"bonjour {name}")
    assert call(CTX, "greet", "ann") == "bonjour ann"
    with pytest.raises(UnknownService) as error:
        call(CTX, "gret", "ann")
    assert str(error.value) == "unknown service 'gret'; known: greet"


def test_middleware_sees_every_call_with_the_request_id(caplog):
    registry = ServiceRegistry()
    registry.provide("add", lambda ctx, pair: pair[0] + pair[1])
    with caplog.at_level("INFO", logger="objectos.services"):
        assert registry.call(CTX, "add", (2, 3)) == 5
    record = caplog.records[-1]
    assert (record.service, record.request_id, record.outcome) == ("add", "r-1", "ok")
