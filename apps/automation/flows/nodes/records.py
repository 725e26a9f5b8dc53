"""Record nodes: get_record, create_record, update_record, delete_record.

All go through apps.objectql with the run's acting context, so the user's permissions,
row scopes, validation rules, audit and data events apply (`runAs: system` acts as the
system). Filters are API filters (Mongo-style JSON) rendered with `{var.path}` first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type
from apps.objectql import write
from apps.objectql.params import QuerySpec, parse_sort
from apps.objectql.query import list_records


def _object_name(node: Node) -> str:
    name = node.setting("objectName") or node.setting("object")
    if not isinstance(name, str) or not name:
        raise NodeFailed(f"node '{node.id}' ({node.type}) needs objectName")
    return name


def _filter(execution, node: Node) -> Any:
    record_id = node.setting("recordId")
    if record_id is not None:
        return {"id": execution.render(record_id)}
    return execution.render(node.setting("filter") or node.setting("filters") or {})


def find(execution, node: Node, object_name: str, top: int) -> list[dict[str, Any]]:
    spec = QuerySpec(top=top, filters=[_filter(execution, node)], count=False)
    sort = node.setting("sort") or node.setting("orderBy")
    if sort:
        spec.sort = parse_sort("sort", sort)
    fields = node.setting("fields") if node.type == "get_record" else None
    if isinstance(fields, list) and fields:
        spec.select = [str(f) for f in fields]
    return list_records(execution.ctx, object_name, spec)["records"]


def _store(execution, node: Node, value: Any) -> None:
    name = node.setting("outputVariable") or node.setting("outputReference")
    if isinstance(name, str) and name:
        execution.variables[name] = value


@node_type("get_record")
class GetRecord:
    """One record (or null) into `outputVariable`; a list when `limit` (or `getAll`/
    `multi`) is given."""

    def run(self, execution, node: Node) -> Outcome:
        object_name = _object_name(node)
        limit = node.setting("limit")
        many = limit is not None or bool(node.setting("getAll") or node.setting("multi"))
        top = int(limit) if limit is not None else settings.OS_MAX_PAGE_SIZE if many else 1
        records = find(execution, node, object_name, max(1, min(top, settings.OS_MAX_PAGE_SIZE)))
        value: Any = records if many else (records[0] if records else None)
        _store(execution, node, value)
        if many:
            return Outcome(output={"count": len(records)})
        return Outcome(output={"id": value["id"] if value else None})


def _values(execution, node: Node) -> dict[str, Any]:
    fields = node.setting("fields") or node.setting("values") or node.setting("record") or {}
    if not isinstance(fields, dict):
        raise NodeFailed(f"node '{node.id}' ({node.type}): fields must be an object")
    return execution.render(fields)


@node_type("create_record")
class CreateRecord:
    """Creates one record from `fields`; its id goes to `outputVariable`."""

    def run(self, execution, node: Node) -> Outcome:
        object_name = _object_name(node)
        answer = write.create_record(execution.ctx, object_name, _values(execution, node))
        _store(execution, node, answer["id"])
        return Outcome(output={"id": answer["id"]})


def _targets(execution, node: Node, object_name: str) -> list[str]:
    """Ids of the records the node's filter matches (at most OS_MAX_BATCH_SIZE)."""
    rows = find(execution, node, object_name, settings.OS_MAX_BATCH_SIZE + 1)
    if len(rows) > settings.OS_MAX_BATCH_SIZE:
        raise NodeFailed(
            f"node '{node.id}': the filter matches more than {settings.OS_MAX_BATCH_SIZE} records"
        )
    return [row["id"] for row in rows]


@node_type("update_record")
class UpdateRecord:
    """Updates every record its filter (or `recordId`) matches with `fields`."""

    def run(self, execution, node: Node) -> Outcome:
        object_name = _object_name(node)
        values = _values(execution, node)
        ids = _targets(execution, node, object_name)
        for record_id in ids:
            write.update_record(execution.ctx, object_name, record_id, values)
        _store(execution, node, ids)
        return Outcome(output={"updated": len(ids), "ids": ids})


@node_type("delete_record")
class DeleteRecord:
    """Deletes the records its filter (or `recordId`) matches."""

    def run(self, execution, node: Node) -> Outcome:
        object_name = _object_name(node)
        ids = _targets(execution, node, object_name)
        if len(ids) > 1 and not node.setting("multi", False):
            raise NodeFailed(
                f"node '{node.id}': the filter matches {len(ids)} records; "
                "set multi: true to delete them all"
            )
        for record_id in ids:
            write.delete_record(execution.ctx, object_name, record_id)
        return Outcome(output={"deleted": len(ids), "ids": ids})
