"""A test-only plugin: a service that runs SQL queries in a loop (a runaway branch), called
through ctx.call by a validator of `kb_item` when the item is named "runaway".

`started` is set when the runaway service begins; it then waits for `release` (set by the
test once a parallel request has been served) before looping, so the two requests
overlap without any sleep.
"""

from __future__ import annotations

import threading

from apps.projects.models import Project

started = threading.Event()
release = threading.Event()
LOOP_LIMIT = 10_000  # a safety net: without a budget the loop ends here


def runaway(ctx, payload) -> int:
    started.set()
    release.wait(20)
    for count in range(LOOP_LIMIT):
        Project.objects.filter(pk=count).exists()
    return LOOP_LIMIT


def call_runaway(ctx, runtime, event, record, previous) -> None:
    if record.get("name") == "runaway":
        ctx.call("test.runaway")


def register(kernel) -> None:
    kernel.provide("test.runaway", runaway)
    if "kb_item" in kernel.objects:
        kernel.objects["kb_item"].validators.append(call_runaway)
