"""A well-behaved plugin: a validated service, a function the artifact may name, a
subscription to this project's created events."""

from __future__ import annotations

from pydantic import BaseModel

SEEN: list = []  # events delivered to this plugin's subscriber, in order


class StockQuery(BaseModel):
    sku: str
    quantity: int = 1


class Stock(BaseModel):
    sku: str
    available: bool
    context: str


def check_stock(ctx, query: StockQuery) -> dict:
    return {"sku": query.sku, "available": query.quantity <= 5, "context": ctx.context_id}


def complete(ctx, **kwargs) -> dict:
    return {"completed": kwargs.get("id")}


def register(kernel) -> None:
    kernel.provide("inventory.check_stock", check_stock, input=StockQuery, output=Stock)
    kernel.register_function("todo.complete", complete)
    kernel.subscribe("data.*.created", SEEN.append, name="good.created")
