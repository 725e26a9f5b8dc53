"""Flow definitions of the artifact (protocol 17 `flows`), parsed once per kernel.

The artifact keeps flows as JSON objects; these pydantic models read the parts the
engine runs: nodes with `config`, edges with `source/target/condition/isDefault/label`,
`variables`, `runAs`, `status` and `type`, and the start node's trigger. Unknown keys are
kept (`extra="allow"`) so node handlers can read kind-specific settings such as a wait
node's `waitEventConfig`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from apps.automation.flows.exceptions import FlowNotFound, InvalidFlow


class Condition(BaseModel):
    model_config = ConfigDict(extra="allow")

    dialect: str = "cel"
    source: str


class Edge(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = ""
    source: str
    target: str
    type: str = "default"
    label: str | None = None
    condition: Condition | None = None
    is_default: bool = Field(default=False, alias="isDefault")

    @field_validator("condition", mode="before")
    @classmethod
    def _condition_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"dialect": "cel", "source": value} if value.strip() else None
        return value


class Node(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    label: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("config", mode="before")
    @classmethod
    def _config_dict(cls, value: Any) -> Any:
        return value if value is not None else {}

    def setting(self, name: str, default: Any = None) -> Any:
        """A config key, else the same key at the node's top level (`waitEventConfig`)."""
        if name in self.config:
            return self.config[name]
        extra = self.model_extra or {}
        return extra.get(name, default)


class Variable(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    type: str = "text"
    is_input: bool = Field(default=False, alias="isInput")
    is_output: bool = Field(default=False, alias="isOutput")
    default: Any = Field(default=None, alias="defaultValue")


class Flow(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    label: str | None = None
    status: str = "draft"
    type: str = "autolaunched"
    run_as: str = Field(default="user", alias="runAs")
    variables: list[Variable] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)


@dataclass
class FlowGraph:
    """A flow with its nodes by id and outgoing edges per node, checked once."""

    flow: Flow
    nodes: dict[str, Node]
    outgoing: dict[str, list[Edge]]
    start: Node
    trigger: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def active(self) -> bool:
        return self.flow.status == "active"

    @property
    def trigger_type(self) -> str:
        """`record-after-create|update|delete|write`, `schedule`, `api` or `manual`."""
        explicit = self.trigger.get("triggerType")
        if isinstance(explicit, str) and explicit:
            return explicit
        if self.trigger.get("schedule") or self.flow.type == "schedule":
            return "schedule"
        return "api" if self.flow.type == "api" else "manual"

    @property
    def object_name(self) -> str | None:
        value = self.trigger.get("objectName")
        return value if isinstance(value, str) and value else None


def build_graph(flow: Flow) -> FlowGraph:
    nodes: dict[str, Node] = {}
    for node in flow.nodes:
        if node.id in nodes:
            raise InvalidFlow(f"flow '{flow.name}' has two nodes with id '{node.id}'")
        nodes[node.id] = node
    outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
    for edge in flow.edges:
        for end in (edge.source, edge.target):
            if end not in nodes:
                raise InvalidFlow(
                    f"flow '{flow.name}': edge '{edge.id}' names unknown node '{end}'"
                )
        outgoing[edge.source].append(edge)
    starts = [node for node in flow.nodes if node.type == "start"]
    if len(starts) != 1:
        raise InvalidFlow(f"flow '{flow.name}' needs exactly one start node, has {len(starts)}")
    return FlowGraph(flow, nodes, outgoing, starts[0], dict(starts[0].config))


def parse_flow(raw: dict[str, Any]) -> FlowGraph:
    try:
        flow = Flow.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidFlow(f"flow '{raw.get('name', '?')}': {where}: {first['msg']}") from None
    return build_graph(flow)


@dataclass
class KernelFlows:
    """The parsed flows of one kernel; broken ones keep their error for a clear answer."""

    graphs: dict[str, FlowGraph]
    broken: dict[str, str]

    def get(self, name: str) -> FlowGraph:
        graph = self.graphs.get(name)
        if graph is not None:
            return graph
        if name in self.broken:
            raise InvalidFlow(self.broken[name])
        raise FlowNotFound(f"no flow named '{name}'")


_by_kernel: weakref.WeakKeyDictionary[Any, KernelFlows] = weakref.WeakKeyDictionary()


def kernel_flows(kernel: Any) -> KernelFlows:
    """The kernel's flows, parsed on first use and kept as long as the kernel lives."""
    found = _by_kernel.get(kernel)
    if found is not None:
        return found
    graphs: dict[str, FlowGraph] = {}
    broken: dict[str, str] = {}
    for raw in kernel.artifact.flows:
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str):
            continue
        try:
            graphs[name] = parse_flow(raw)
        except InvalidFlow as error:
            broken[name] = error.message
    found = KernelFlows(graphs, broken)
    _by_kernel[kernel] = found
    return found
