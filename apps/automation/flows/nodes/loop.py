"""The loop node: runs a body once per item of a collection, with an iterator variable.

Two shapes exist in protocol-17 artifacts. Structured: `config.body` holds its own
`nodes`/`edges` (run from the body node without incoming edges). Graph: the loop's
outgoing edge leads into the body, which runs until it reaches an end node or comes back
to the loop node; after the last item the run follows the loop's exit edge (an edge
labelled or typed `done`, `exit`, `after_last`, `loop_exit`) or else the end node the
body reached. `indexVariable` holds the 0-based index; `maxIterations` caps the loop
(default OS_FLOW_MAX_ITERATIONS). Nodes inside a loop cannot pause.
"""

from __future__ import annotations

from django.conf import settings

from apps.automation.flows.definition import Flow, FlowGraph, Node, build_graph
from apps.automation.flows.exceptions import InvalidFlow, NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type

EXIT_NAMES = frozenset({"done", "exit", "after_last", "after last", "loop_exit", "complete"})


def _is_exit(edge) -> bool:
    return (edge.label or "").lower() in EXIT_NAMES or edge.type.lower() in EXIT_NAMES


def body_graph(node: Node, body: dict) -> tuple[FlowGraph, str]:
    """The structured body as a graph with a synthetic start; returns (graph, first id)."""
    nodes = body.get("nodes") or []
    edges = body.get("edges") or []
    if not nodes:
        raise InvalidFlow(f"loop '{node.id}': its body has no nodes")
    targets = {e.get("target") for e in edges if isinstance(e, dict)}
    entry = next((n["id"] for n in nodes if n.get("id") not in targets), nodes[0].get("id"))
    if not edges and len(nodes) > 1:  # a plain list of nodes: run them in order
        edges = [
            {"id": f"seq{i}", "source": a["id"], "target": b["id"]}
            for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))
        ]
    start = {"id": f"{node.id}.__start", "type": "start"}
    flow = Flow.model_validate(
        {
            "name": f"{node.id}.body",
            "nodes": [start, *nodes],
            "edges": [{"id": "entry", "source": start["id"], "target": entry}, *edges],
        }
    )
    return build_graph(flow), entry


@node_type("loop")
class Loop:
    def run(self, execution, node: Node) -> Outcome:
        from apps.automation.flows.engine import walk

        collection = execution.render(node.setting("collection"))
        if collection is None:
            collection = []
        if isinstance(collection, dict) and isinstance(collection.get("records"), list):
            collection = collection["records"]
        if not isinstance(collection, list):
            raise NodeFailed(f"loop '{node.id}': the collection is not a list")
        limit = int(node.setting("maxIterations") or settings.OS_FLOW_MAX_ITERATIONS)
        if len(collection) > limit:
            raise NodeFailed(f"loop '{node.id}': {len(collection)} items, more than {limit}")
        iterator = node.setting("iteratorVariable") or node.setting("itemVariable") or "item"
        index_name = node.setting("indexVariable")
        body = node.setting("body")
        graph = execution.graph
        if isinstance(body, dict):
            graph, entry = body_graph(node, body)
            exit_target = None
        else:
            edges = graph.outgoing.get(node.id, [])
            exits = [e for e in edges if _is_exit(e)]
            entries = [e for e in edges if not _is_exit(e)]
            if not entries:
                raise InvalidFlow(f"loop '{node.id}' has no edge into its body")
            entry = entries[0].target
            exit_target = exits[0].target if exits else None
        reached_end = None
        for index, item in enumerate(collection):
            execution.variables[iterator] = item
            if index_name:
                execution.variables[index_name] = index
            execution.iterations.append(index)
            try:
                walked = walk(execution, graph, entry, stop=frozenset({node.id}), nested=True)
            finally:
                execution.iterations.pop()
            if walked.kind == "end" and walked.node_id is not None:
                reached_end = walked.node_id
        output = {"iterations": len(collection)}
        if isinstance(body, dict):
            return Outcome(output=output)  # on along the loop's own outgoing edge
        if exit_target is not None:
            return Outcome(output=output, goto=exit_target)
        if reached_end is not None and graph.nodes[reached_end].type == "end":
            return Outcome(output=output, goto=reached_end)
        if not collection:  # nothing ran: go to the end the body would have reached
            target = _first_end(graph, entry)
            if target is not None:
                return Outcome(output=output, goto=target)
        return Outcome(output=output, end=True)


def _first_end(graph: FlowGraph, start: str) -> str | None:
    seen, queue = set(), [start]
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        if graph.nodes[current].type == "end":
            return current
        queue.extend(edge.target for edge in graph.outgoing.get(current, []))
    return None
