"""The approval node: pauses until the named approvers decide (`POST .../runs/<id>/resume`
with `{decision: approve|reject, comment}`); anyone else is refused with 403.

Approvers (`config.approvers`): `{type: user, value: id|email}`, `{type: position,
value}` (members holding the position), `{type: permission_set, value}`, `{type: field,
value}` (a user field of the triggering record), `{type: expression, value: CEL}`
(user ids), or plain ids/emails. Kinds without a source here (team, department,
manager) name nobody. No approver at all fails the node (`onEmptyApprovers: fail`,
the default) or takes the `approve` edge (`onEmptyApprovers: approve|skip`).

`behavior`: `first_response` (default: the first decision decides), `unanimous` (all
approve; one reject rejects), `quorum` (`minApprovals` approvals), `per_group` (each
`group` needs `minApprovals`, default 1). The node's variable `<node id>` holds
`{decision, comment, decisions}`; the run continues on the edge labelled `approve` or
`reject`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import InvalidResume, NodeFailed, NotAnApprover, RunNotWaiting
from apps.automation.flows.nodes.base import Outcome, node_type
from apps.security.models import Membership

DECISIONS = {"approve": "approve", "approved": "approve", "reject": "reject", "rejected": "reject"}


def _ids(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [item for v in value for item in _ids(v)]
    if isinstance(value, dict):
        return _ids(value.get("id"))
    return [value]


def _users(project_id: int | None, names: list[Any]) -> set[int]:
    ids = {int(n) for n in names if isinstance(n, int) or (isinstance(n, str) and n.isdigit())}
    emails = {n.lower() for n in names if isinstance(n, str) and not n.isdigit()}
    if not ids and not emails:
        return set()
    members = Membership.objects.filter(project_id=project_id).values("user_id")
    found = get_user_model()._base_manager.filter(
        (Q(pk__in=ids) | Q(email__in=emails) | Q(username__in=emails))
        & (Q(pk__in=members) | Q(is_superuser=True))
    )
    return set(found.values_list("pk", flat=True))


def _members_with(project_id: int | None, key: str, value: str) -> set[int]:
    rows = Membership.objects.filter(project_id=project_id).values_list("user_id", key)
    return {user_id for user_id, names in rows if value in (names or [])}


def resolve(execution, approver: Any) -> set[int]:
    project_id = execution.ctx.project_id
    if not isinstance(approver, dict):
        return _users(project_id, _ids(execution.render(approver)))
    kind = str(approver.get("type") or "user")
    value = approver.get("value")
    if kind == "user":
        return _users(project_id, _ids(execution.render(value)))
    if kind in ("position", "role"):
        return _members_with(project_id, "positions", str(value))
    if kind == "permission_set":
        return _members_with(project_id, "permission_sets", str(value))
    if kind == "field":
        record = execution.variables.get("record") or {}
        return _users(project_id, _ids(record.get(str(value))))
    if kind == "expression" and isinstance(value, str):
        from apps.automation.flows.conditions import evaluate_value

        return _users(project_id, _ids(evaluate_value(value, execution.activation())))
    return set()


def _groups(execution, node: Node) -> dict[str, list[int]]:
    groups: dict[str, set[int]] = {}
    for index, approver in enumerate(node.setting("approvers") or []):
        group = approver.get("group") if isinstance(approver, dict) else None
        groups.setdefault(str(group or f"#{index}"), set()).update(resolve(execution, approver))
    return {name: sorted(ids) for name, ids in groups.items()}


def outcome_of(waiting: dict[str, Any]) -> str | None:
    """'approve', 'reject' or None (still waiting) for the decisions taken so far."""
    decisions = waiting["decisions"]
    approvers = waiting["approvers"]
    behavior = waiting["behavior"]
    approved = {d["user"] for d in decisions if d["decision"] == "approve"}
    rejected = {d["user"] for d in decisions if d["decision"] == "reject"}
    if behavior == "first_response":
        return decisions[-1]["decision"] if decisions else None
    if behavior == "unanimous":
        if rejected:
            return "reject"
        return "approve" if approved >= set(approvers) else None
    needed = max(1, int(waiting.get("minApprovals") or 1))
    if behavior == "quorum":
        if len(approved) >= needed:
            return "approve"
        return "reject" if len(approvers) - len(rejected) < needed else None
    if behavior == "per_group":
        verdicts = []
        for members in waiting["groups"].values():
            ok = approved & set(members)
            no = rejected & set(members)
            if len(members) - len(no) < min(needed, len(members)):
                return "reject"
            verdicts.append(len(ok) >= min(needed, len(members)))
        return "approve" if all(verdicts) else None
    raise NodeFailed(f"approval behavior '{behavior}' is not supported")


@node_type("approval")
class Approval:
    def run(self, execution, node: Node) -> Outcome:
        groups = _groups(execution, node)
        approvers = sorted({user for ids in groups.values() for user in ids})
        behavior = str(node.setting("behavior") or "first_response")
        if behavior not in ("first_response", "unanimous", "quorum", "per_group"):
            raise NodeFailed(f"approval '{node.id}': behavior '{behavior}' is not supported")
        if not approvers:
            if str(node.setting("onEmptyApprovers") or "fail") in ("approve", "skip"):
                execution.variables[node.id] = {"decision": "approve", "decisions": []}
                return Outcome(branch="approve", output={"approvers": []})
            raise NodeFailed(f"approval '{node.id}' names no approver who is a project user")
        waiting = {
            "kind": "approval",
            "title": execution.render(node.label or ""),
            "approvers": approvers,
            "groups": {k: v for k, v in groups.items() if v},
            "behavior": behavior,
            "minApprovals": node.setting("minApprovals"),
            "decisions": [],
        }
        return Outcome(pause=waiting, output={"approvers": approvers})

    def resume(self, execution, node: Node, waiting, payload, actor) -> Outcome:
        if actor.user_id not in waiting["approvers"]:
            raise NotAnApprover("you are not an approver of this step")
        if any(d["user"] == actor.user_id for d in waiting["decisions"]):
            raise RunNotWaiting("you have already decided on this step")
        if not isinstance(payload, dict):
            raise InvalidResume("the body must be {decision, comment}", field="decision")
        decision = DECISIONS.get(str(payload.get("decision", "")).lower())
        if decision is None:
            raise InvalidResume("decision must be approve or reject", field="decision")
        comment = payload.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise InvalidResume("comment must be text", field="comment")
        waiting = dict(waiting)
        waiting["decisions"] = [
            *waiting["decisions"],
            {
                "user": actor.user_id,
                "decision": decision,
                "comment": comment or "",
                "at": timezone.now().isoformat(timespec="seconds"),
            },
        ]
        verdict = outcome_of(waiting)
        if verdict is None:
            return Outcome(pause=waiting, output={"decision": decision, "by": actor.user_id})
        execution.variables[node.id] = {
            "decision": verdict,
            "comment": comment or "",
            "decisions": waiting["decisions"],
        }
        return Outcome(branch=verdict, output={"decision": verdict, "by": actor.user_id})
