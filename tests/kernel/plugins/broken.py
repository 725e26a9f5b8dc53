"""A plugin that fails halfway through register(): what it registered is taken back."""

from __future__ import annotations


def register(kernel) -> None:
    kernel.provide("broken.half", lambda ctx, payload: "never")
    kernel.register_function("broken.fn", lambda ctx, **kwargs: None)
    kernel.subscribe("data.#", lambda event: None, name="broken.all")
    first = next(iter(kernel.objects.values()), None)
    if first is not None:
        first.validators.append(lambda *args: None)
    raise RuntimeError("cannot reach the inventory system")
