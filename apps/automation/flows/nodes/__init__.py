"""Built-in node types; importing this package registers them (see nodes.base)."""

from apps.automation.flows.nodes import (  # noqa: F401
    approval,
    control,
    http,
    loop,
    notify,
    records,
    screen,
    script,
    subflow,
    wait,
)
