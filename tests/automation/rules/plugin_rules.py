"""A test plugin: the Python functions behind the rules test app's script actions."""

from __future__ import annotations

from typing import Any

from apps.objectql import write
from apps.objectql.params import QuerySpec
from apps.objectql.query import list_records


def schedule(ctx, payload: dict[str, Any]) -> dict[str, Any]:
    """Writes the chosen date to the record as the actor and echoes what it received."""
    params = payload["params"]
    write.update_record(ctx, "rul_ticket", payload["recordId"], {"start_date": params["when"]})
    return {
        "subject": payload["record"]["subject"],
        "when": params["when"],
        "slots": params["slots"],
        "mode": params["mode"],
    }


schedule.writes = True  # type: ignore[attr-defined]


def export(ctx, payload: dict[str, Any]) -> dict[str, Any]:
    rows = list_records(ctx, "rul_ticket", QuerySpec(top=500, sort=[("subject", False)]))
    return {"subjects": [r["subject"] for r in rows["records"]], "ids": payload["ids"]}


def ping(ctx, payload: dict[str, Any]) -> dict[str, Any]:
    return {"pong": payload["params"]["echo"], "user": payload["user"]["email"]}


def explode(ctx, payload: dict[str, Any]) -> None:
    raise RuntimeError("the plugin broke")


def register(kernel) -> None:
    if "rul_ticket" not in kernel.objects:
        return
    kernel.register_function("rulSchedule", schedule)
    kernel.register_function("rulExport", export)
    kernel.register_function("rulPing", ping)
    kernel.register_function("rulExplode", explode)
