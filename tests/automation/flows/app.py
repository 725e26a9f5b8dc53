"""The flows test app (project `flw`): one object and one small flow per node type.

Built in Python because a flow is mostly its chain of nodes: `chain(...)` links nodes in
order with default edges; branches add their own edges.
"""

from __future__ import annotations

from typing import Any


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "label": node_id, "config": config}


def edge(source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{source}->{target}", "source": source, "target": target, **extra}


def chain(*nodes: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:], strict=False)]


def flow(name: str, nodes, edges=None, *, status="active", kind="autolaunched", run_as="user",
         variables=()) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name,
        "label": name.replace("_", " ").title(),
        "status": status,
        "type": kind,
        "runAs": run_as,
        "variables": list(variables),
        "nodes": list(nodes),
        "edges": chain(*nodes) if edges is None else edges,
    }


def var(name: str, *, inp: bool = False, out: bool = False, kind: str = "text") -> dict:
    return {"name": name, "type": kind, "isInput": inp, "isOutput": out}


START, END = node("start", "start"), node("end", "end")


def record_start(trigger: str, condition: str | None = None) -> dict[str, Any]:
    config = {"objectName": "flw_task", "triggerType": trigger}
    if condition:
        config["condition"] = condition
    return node("start", "start", **config)


def flows() -> list[dict[str, Any]]:
    big, small = (
        node("big", "assignment", assignments={"size": "big"}),
        node("small", "assignment", assignments={"size": "small"}),
    )
    decide = node("decide", "decision")
    looped = node("count_one", "assignment",
                  assignments=[{"variable": "seen", "operator": "add", "value": "{task.title}"}])  # fmt: skip
    approve_ok = node("ok", "assignment", assignments={"result": "approved"})
    approve_no = node("no", "assignment", assignments={"result": "rejected"})
    return [
        flow(
            "on_done",
            [
                record_start(
                    "record-after-update", 'status == "done" && previous.status != "done"'
                ),
                node(
                    "log",
                    "create_record",
                    objectName="flw_log",
                    fields={"message": "done: {record.title}", "task": "{record.id}"},
                    outputVariable="logId",
                ),
                node(
                    "tell",
                    "notify",
                    recipients="{record.assignee}",
                    title="Done: {record.title}",
                    message="by {$User.Email}",
                    sourceObject="flw_task",
                    sourceId="{record.id}",
                ),
                END,
            ],
        ),  # fmt: skip
        flow(
            "on_create_score",
            [
                record_start("record-after-create", "priority == 'high'"),
                node(
                    "score",
                    "update_record",
                    objectName="flw_task",
                    filter={"id": "{record.id}"},
                    fields={"score": 10},
                ),
                END,
            ],
            run_as="system",
        ),  # fmt: skip
        flow(
            "on_delete_log",
            [
                record_start("record-after-delete"),
                node(
                    "log",
                    "create_record",
                    objectName="flw_log",
                    fields={"message": "deleted: {record.title}"},
                ),
                END,
            ],
            run_as="system",
        ),  # fmt: skip
        flow(
            "decide",
            [START, decide, big, small, END],
            [
                edge("start", "decide"),
                edge("decide", "big", condition={"dialect": "cel", "source": "amount > 100"}),
                edge("decide", "small", isDefault=True),
                edge("big", "end"),
                edge("small", "end"),
            ],
            variables=[var("amount", inp=True, kind="number"), var("size", out=True)],
        ),
        flow(
            "looper",
            [
                START,
                node(
                    "find",
                    "get_record",
                    objectName="flw_task",
                    filter={"status": "open"},
                    sort="title",
                    limit=50,
                    outputVariable="tasks",
                ),
                node("each", "loop", collection="{tasks}", iteratorVariable="task"),
                looped,
                END,
            ],
            variables=[var("seen", out=True, kind="list")],
        ),  # fmt: skip
        flow(
            "looper_structured",
            [
                START,
                node(
                    "each",
                    "loop",
                    collection="{items}",
                    iteratorVariable="item",
                    indexVariable="i",
                    body={
                        "nodes": [
                            node(
                                "acc",
                                "assignment",
                                assignments=[
                                    {"variable": "total", "operator": "add", "value": "{item}"}
                                ],
                            ),
                            node("idx", "assignment", assignments={"last": "{i}"}),
                        ],
                        "edges": [],
                    },
                ),
                END,
            ],
            variables=[
                var("items", inp=True, kind="list"),
                var("total", out=True, kind="number"),
                var("last", out=True),
            ],
        ),  # fmt: skip
        flow(
            "crud",
            [
                START,
                node(
                    "make",
                    "create_record",
                    objectName="flw_task",
                    fields={"title": "{title}", "status": "open", "due_date": "{tomorrow}"},
                    outputVariable="newId",
                ),
                node(
                    "read",
                    "get_record",
                    objectName="flw_task",
                    filter={"id": "{newId}"},
                    outputVariable="made",
                ),
                node(
                    "change",
                    "update_record",
                    objectName="flw_task",
                    filter={"id": "{newId}"},
                    fields={"notes": "seen {made.title} due {made.due_date}"},
                ),
                node(
                    "reread",
                    "get_record",
                    objectName="flw_task",
                    filter={"id": "{newId}"},
                    outputVariable="changed",
                ),
                node("drop", "delete_record", objectName="flw_task", filter={"id": "{newId}"}),
                END,
            ],
            variables=[var("title", inp=True), var("newId", out=True), var("changed", out=True)],
        ),  # fmt: skip
        flow(
            "scripted",
            [
                START,
                node(
                    "twice",
                    "script",
                    function="double",
                    inputs={"value": "{n}"},
                    outputVariable="doubled",
                ),
                node(
                    "after",
                    "script",
                    function="nextDay",
                    inputs={"day": "{day}"},
                    outputVariable="nextDay",
                ),
                END,
            ],
            variables=[
                var("n", inp=True),
                var("day", inp=True),
                var("doubled", out=True),
                var("nextDay", out=True),
            ],
        ),  # fmt: skip
        flow("script_missing", [START, node("x", "script", function="nowhere"), END]),
        flow(
            "script_breaks",
            [
                START,
                node("make", "create_record", objectName="flw_log", fields={"message": "before"}),
                node("x", "script", function="explode"),
                END,
            ],
        ),  # fmt: skip
        flow(
            "caller",
            [
                START,
                node(
                    "call",
                    "http",
                    url="{url}",
                    method="POST",
                    body={"title": "{title}"},
                    outputVariable="answer",
                ),
                END,
            ],
            variables=[var("url", inp=True), var("title", inp=True), var("answer", out=True)],
        ),  # fmt: skip
        flow(
            "notifier",
            [
                START,
                node(
                    "tell",
                    "notify",
                    recipients="{who}",
                    title="Hello {name}",
                    message="msg",
                    severity="warning",
                ),
                END,
            ],
            variables=[var("who", inp=True), var("name", inp=True)],
        ),  # fmt: skip
        flow(
            "waiter",
            [
                START,
                {
                    "id": "hold",
                    "type": "wait",
                    "label": "hold",
                    "waitEventConfig": {"eventType": "timer", "timerDuration": "PT1M"},
                },
                node("after", "assignment", assignments={"woke": True}),
                END,
            ],
            variables=[var("woke", out=True)],
        ),  # fmt: skip
        flow(
            "child",
            [
                START,
                node("greet", "assignment", assignments={"greeting": "hi {name}"}),
                END,
            ],
            status="draft",
            variables=[var("name", inp=True), var("greeting", out=True)],
        ),  # fmt: skip
        flow(
            "parent",
            [
                START,
                node(
                    "call",
                    "subflow",
                    flowName="child",
                    input={"name": "{who}"},
                    outputVariable="res",
                ),
                node("copy", "assignment", assignments={"said": "{res.greeting}"}),
                END,
            ],
            variables=[var("who", inp=True), var("said", out=True)],
        ),  # fmt: skip
        flow(
            "asker",
            [
                START,
                node(
                    "ask",
                    "screen",
                    title="Your task",
                    fields=[
                        {"name": "answer", "label": "Title", "type": "text", "required": True},
                        {"name": "level", "type": "select", "defaultValue": "low"},
                    ],
                ),
                node(
                    "make",
                    "create_record",
                    objectName="flw_task",
                    fields={"title": "{answer}", "priority": "{level}"},
                    outputVariable="newId",
                ),
                END,
            ],
            kind="screen",
            variables=[var("newId", out=True)],
        ),  # fmt: skip
        flow(
            "approve_it",
            [
                START,
                node(
                    "review",
                    "approval",
                    approvers=[{"type": "position", "value": "manager"}],
                    behavior="first_response",
                ),
                approve_ok,
                approve_no,
                END,
            ],  # fmt: skip
            [
                edge("start", "review"),
                edge("review", "ok", label="approve"),
                edge("review", "no", label="reject"),
                edge("ok", "end"),
                edge("no", "end"),
            ],
            variables=[var("result", out=True)],
        ),
        flow(
            "approve_all",
            [
                START,
                node(
                    "review",
                    "approval",
                    approvers=[
                        {"type": "user", "value": "{first}"},
                        {"type": "user", "value": "{second}"},
                    ],
                    behavior="unanimous",
                ),
                approve_ok,
                approve_no,
                END,
            ],  # fmt: skip
            [
                edge("start", "review"),
                edge("review", "ok", label="approve"),
                edge("review", "no", label="reject"),
                edge("ok", "end"),
                edge("no", "end"),
            ],
            variables=[var("first", inp=True), var("second", inp=True), var("result", out=True)],
        ),
        flow(
            "signoff_child",
            [
                START,
                node("review", "approval", approvers=[{"type": "position", "value": "manager"}]),
                node("mark", "assignment", assignments={"decision": "{vars.review.decision}"}),
                END,
            ],
            status="draft",
            variables=[var("decision", out=True)],
        ),  # fmt: skip
        flow(
            "signoff_parent",
            [
                START,
                node("call", "subflow", flowName="signoff_child", outputVariable="res"),
                node("copy", "assignment", assignments={"final": "{res.decision}"}),
                END,
            ],
            variables=[var("final", out=True)],
        ),  # fmt: skip
        flow("teleporter", [START, node("beam", "teleport"), END]),
        flow(
            "daily",
            [
                {"id": "start", "type": "start", "config": {"schedule": "0 8 * * *"}},
                node("tell", "notify", recipients="admin@flw.test", title="daily"),
                END,
            ],
            kind="schedule",
            run_as="system",
        ),  # fmt: skip
        flow("drafty", [START, END], status="draft", kind="api"),
        flow(
            "bounce",
            [
                record_start("record-after-update", "bounce != previous.bounce"),
                node(
                    "up",
                    "assignment",
                    assignments=[
                        {"variable": "next", "operator": "set", "value": "{record.bounce}"},
                        {"variable": "next", "operator": "add", "value": 1},
                    ],
                ),
                node(
                    "write",
                    "update_record",
                    objectName="flw_task",
                    filter={"id": "{record.id}"},
                    fields={"bounce": "{next}"},
                ),
                END,
            ],
        ),  # fmt: skip
    ]


PERMISSIONS = [
    {
        "name": "flw_member",
        "label": "Member",
        "objects": {
            "flw_task": {
                "allowCreate": True,
                "allowRead": True,
                "allowEdit": True,
                "allowDelete": True,
                "viewAllRecords": True,
                "modifyAllRecords": True,
            },
            "flw_log": {"allowCreate": True, "allowRead": True, "viewAllRecords": True},
        },
    },  # fmt: skip
    {
        "name": "flw_reader",
        "label": "Reader",
        "objects": {
            "flw_task": {"allowRead": True, "viewAllRecords": True},
            "flw_log": {"allowRead": True, "viewAllRecords": True},
        },
    },
]


def artifact() -> dict[str, Any]:
    return {
        "manifest": {
            "id": "dev.objectos.flows-fixture",
            "namespace": "flw",
            "version": "1.0.0",
            "type": "app",
            "scope": "project",
            "name": "Flows fixture",
            "engines": {"protocol": "^17"},
        },
        "objects": [
            {
                "name": "flw_task",
                "label": "Task",
                "sharingModel": "private",
                "fields": {
                    "title": {"type": "text", "required": True},
                    "status": {
                        "type": "select",
                        "options": [
                            {"value": "open", "label": "Open"},
                            {"value": "done", "label": "Done"},
                        ],
                    },
                    "priority": {
                        "type": "select",
                        "options": [
                            {"value": "low", "label": "Low"},
                            {"value": "high", "label": "High"},
                        ],
                    },
                    "assignee": {"type": "user"},
                    "due_date": {"type": "date"},
                    "notes": {"type": "textarea"},
                    "score": {"type": "number"},
                    "bounce": {"type": "number"},
                },
            },  # fmt: skip
            {
                "name": "flw_log",
                "label": "Log",
                "sharingModel": "private",
                "fields": {"message": {"type": "text", "required": True}, "task": {"type": "text"}},
            },
        ],
        "permissions": PERMISSIONS,
        "positions": [{"name": "manager", "label": "Manager"}],
        "flows": flows(),
    }
