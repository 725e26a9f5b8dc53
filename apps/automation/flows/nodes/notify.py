"""The notify node: stores a notification for each recipient (apps.automation.notifications).

Config: `recipients` (user id, email or a list; templated), `title`, `message`,
`severity` (info, success, warning, error, critical), `topic`, `actionUrl`,
`sourceObject`, `sourceId`. Recipients that are no user of the project are listed in
the trace as `unresolved`; the node does not fail for them.
"""

from __future__ import annotations

from apps.automation.flows.definition import Node
from apps.automation.flows.nodes.base import Outcome, node_type
from apps.automation.notifications import notify


@node_type("notify", "notification", "send_notification")
class Notify:
    def run(self, execution, node: Node) -> Outcome:
        config = execution.render(dict(node.config))
        title = config.get("title") or node.label or execution.graph.flow.label or ""
        delivered = notify(
            execution.ctx,
            config.get("recipients") or config.get("recipient"),
            str(title),
            str(config.get("message") or ""),
            severity=str(config.get("severity") or "info"),
            source_object=config.get("sourceObject"),
            source_id=config.get("sourceId"),
            topic=str(config.get("topic") or ""),
            action_url=str(config.get("actionUrl") or ""),
            flow_run=execution.run,
        )
        output = {"recipients": delivered.recipient_ids}
        if delivered.unresolved:
            output["unresolved"] = [str(r) for r in delivered.unresolved]
        return Outcome(output=output)
