"""Pre-17 artifacts: one refusal per retired top-level key, or an upgrade to protocol 17.

Protocol 17 retired `roles`, `workflows`, `approvals`, `policies`, `portals`
and `themes`. `retired_key_issues` explains each one present (what it was,
what replaces it). `upgrade_legacy` converts what has a mechanical
equivalent (roles to positions, `role` recipients of sharing rules to
`position`) and drops the rest, reporting every change as a warning.
"""

from __future__ import annotations

from typing import Any

from apps.artifact.issues import Issue, json_path

RETIRED_KEYS: dict[str, str] = {
    "roles": (
        "`roles` (the role hierarchy) was retired in protocol 17; declare them as "
        "`positions` (same name, label, description, parent)"
    ),
    "workflows": (
        "`workflows` (record-triggered workflow rules) were retired in protocol 17; "
        "use `state_machine` validation rules on the object for status transitions and "
        "record-change `flows` for automation"
    ),
    "approvals": (
        "`approvals` (approval processes) were retired in protocol 17; model them as "
        "`flows` with `approval` nodes"
    ),
    "policies": (
        "`policies` (security policies) were retired in protocol 17; record-level rules "
        "belong in permission sets' `rowLevelSecurity`, password and session settings in "
        "the runtime configuration"
    ),
    "portals": (
        "`portals` (external portals) were retired in protocol 17; declare an entry in `apps`"
    ),
    "themes": ("`themes` were retired in protocol 17; use the branding of the entry in `apps`"),
}

_ROLE_RECIPIENTS = {"role": "position", "role_and_subordinates": "position"}


def retired_keys(raw: dict[str, Any]) -> list[str]:
    """The retired top-level keys present in `raw`, in document order."""
    return [key for key in raw if key in RETIRED_KEYS]


def is_legacy(raw: dict[str, Any]) -> bool:
    """True when `raw` uses a retired key or a retired `role` sharing recipient."""
    return bool(retired_keys(raw) or _role_recipients(raw))


def retired_key_issues(raw: dict[str, Any]) -> list[Issue]:
    """One issue per retired key (and per sharing-rule `role` recipient) in `raw`."""
    issues = [Issue(key, RETIRED_KEYS[key]) for key in retired_keys(raw)]
    for path, recipient_type in _role_recipients(raw):
        issues.append(
            Issue(
                json_path(path),
                f"recipient type '{recipient_type}' was retired in protocol 17; "
                "share with a 'position' (or 'unit_and_subordinates' for a business-unit subtree)",
            )
        )
    return issues


def _role_recipients(raw: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    rules = raw.get("sharingRules")
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(rule, dict):
            continue
        for key in ("sharedWith", "ownedBy"):
            recipient = rule.get(key)
            if isinstance(recipient, dict) and recipient.get("type") in _ROLE_RECIPIENTS:
                found.append((("sharingRules", index, key, "type"), recipient["type"]))
    return found


def upgrade_legacy(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """A protocol-17 copy of `raw` and one warning per conversion or dropped part.

    `raw` itself is not changed.
    """
    upgraded = dict(raw)
    notes: list[Issue] = []
    roles = upgraded.pop("roles", None)
    if roles is not None:
        notes.extend(_roles_to_positions(roles, upgraded))
    for key in ("workflows", "approvals", "policies", "portals", "themes"):
        if key in upgraded:
            dropped = upgraded.pop(key)
            count = len(dropped) if isinstance(dropped, list) else 1
            notes.append(
                Issue(
                    key, f"dropped {count} entr{'y' if count == 1 else 'ies'}: {RETIRED_KEYS[key]}"
                )
            )
    recipients = _role_recipients(upgraded)
    if recipients:
        rules = [
            dict(rule) if isinstance(rule, dict) else rule for rule in upgraded["sharingRules"]
        ]
        upgraded["sharingRules"] = rules
        for path, recipient_type in recipients:
            _, index, key, _ = path
            assert isinstance(index, int) and isinstance(key, str)
            rules[index][key] = {**rules[index][key], "type": "position"}
            detail = (
                "; subordinates are no longer included, share with 'unit_and_subordinates' "
                "for a business-unit subtree"
                if recipient_type == "role_and_subordinates"
                else ""
            )
            notes.append(
                Issue(
                    json_path(path), f"recipient type '{recipient_type}' became 'position'{detail}"
                )
            )
    return upgraded, notes


def _roles_to_positions(roles: Any, upgraded: dict[str, Any]) -> list[Issue]:
    if not isinstance(roles, list):
        return [Issue("roles", "dropped: `roles` must be a list to become `positions`")]
    positions = list(upgraded.get("positions") or [])
    existing = {p.get("name") for p in positions if isinstance(p, dict)}
    notes: list[Issue] = []
    for index, role in enumerate(roles):
        if not isinstance(role, dict) or role.get("name") in existing:
            notes.append(
                Issue(json_path(("roles", index)), "dropped: not an object or already a position")
            )
            continue
        positions.append(dict(role))
        existing.add(role.get("name"))
    upgraded["positions"] = positions
    converted = len(roles) - len(notes)
    notes.insert(0, Issue("roles", f"converted {converted} role(s) to `positions`"))
    return notes
