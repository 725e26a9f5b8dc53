"""Warnings for every part of an artifact the Python runtime does not execute (JavaScript, JSX, Node plugins).

Nothing here is an error: the artifact still loads, and each part that carries
or calls JavaScript is reported once at its JSON path so that nothing is
dropped silently. An object's action that is repeated in the top-level
`actions` list (the compiler copies them there) is reported at the top-level
entry only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.artifact.issues import Issue, json_path
from apps.artifact.models import Artifact

JS_LANGUAGES = frozenset({"js", "javascript", "ts", "typescript", "jsx", "tsx", "mjs"})
_NOT_RUN = "is not executed by the Python runtime"
_PROVIDE = "provide it as a Python plugin"


def unsupported_parts(artifact: Artifact) -> list[Issue]:
    """One warning per hook, page, plugin, function, action, flow node or job that needs JavaScript."""
    warnings: list[Issue] = []
    warnings.extend(_hooks(artifact.hooks))
    warnings.extend(_pages(artifact.pages))
    warnings.extend(_plugins(artifact.plugins))
    warnings.extend(_functions(artifact.functions))
    warnings.extend(_actions(artifact))
    warnings.extend(_flow_scripts(artifact.flows))
    warnings.extend(_jobs(artifact.jobs))
    if artifact.runtime_module:
        warnings.append(
            Issue(
                "runtimeModule",
                f"JavaScript runtime module '{artifact.runtime_module}' {_NOT_RUN}; "
                "the handlers it bundles are unavailable unless provided as Python plugins",
            )
        )
    return warnings


def _js_body(entry: dict[str, Any]) -> bool:
    body = entry.get("body")
    if isinstance(body, str):
        return bool(body.strip())
    if isinstance(body, dict):
        language = str(body.get("language", "")).lower()
        return language in JS_LANGUAGES or "source" in body
    return False


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or entry.get("id") or "?")


def _hooks(hooks: list[dict[str, Any]]) -> Iterator[Issue]:
    for index, hook in enumerate(hooks):
        if _js_body(hook):
            yield Issue(
                json_path(("hooks", index)),
                f"JavaScript hook body '{_name(hook)}' {_NOT_RUN}; {_PROVIDE}",
            )
        elif hook.get("handler"):
            yield Issue(
                json_path(("hooks", index)),
                f"hook '{_name(hook)}' calls JavaScript handler '{hook['handler']}', "
                f"which {_NOT_RUN}; {_PROVIDE}",
            )


def _pages(pages: list[dict[str, Any]]) -> Iterator[Issue]:
    for index, page in enumerate(pages):
        source = page.get("source")
        if isinstance(source, str) and source.strip():
            yield Issue(
                json_path(("pages", index)),
                f"JSX/TSX page source of page '{_name(page)}' is not rendered by the Python "
                "runtime; the page's declarative regions are served without it",
            )


def _plugins(plugins: list[dict[str, Any]]) -> Iterator[Issue]:
    for index, plugin in enumerate(plugins):
        version = plugin.get("version")
        label = f"'{_name(plugin)}'" + (f" ({version})" if version else "")
        yield Issue(
            json_path(("plugins", index)),
            f"Node.js plugin {label} is not loaded by the Python runtime; {_PROVIDE}",
        )


def _functions(functions: dict[str, Any] | list[dict[str, Any]] | None) -> Iterator[Issue]:
    if isinstance(functions, dict):
        entries: list[tuple[str | int, str, Any]] = [(k, k, v) for k, v in functions.items()]
    else:
        entries = [(i, _name(v), v) for i, v in enumerate(functions or ())]
    for key, name, spec in entries:
        handler = spec.get("handler") if isinstance(spec, dict) else spec
        if isinstance(spec, dict) and _js_body(spec):
            what = f"JavaScript function body '{name}'"
        else:
            what = f"JavaScript function '{name}' (handler '{handler}' in the runtime module)"
        yield Issue(json_path(("functions", key)), f"{what} {_NOT_RUN}; {_PROVIDE}")


def _script_action_message(action: dict[str, Any]) -> str | None:
    if action.get("type") != "script":
        return None
    if _js_body(action):
        return f"JavaScript body of script action '{_name(action)}' {_NOT_RUN}; {_PROVIDE}"
    if action.get("target"):
        return (
            f"script action '{_name(action)}' calls JavaScript handler '{action['target']}', "
            f"which {_NOT_RUN}; {_PROVIDE}"
        )
    return None


def _actions(artifact: Artifact) -> Iterator[Issue]:
    reported: set[tuple[Any, Any]] = set()
    for index, action in enumerate(artifact.actions):
        message = _script_action_message(action)
        if message:
            reported.add((action.get("objectName"), action.get("name")))
            yield Issue(json_path(("actions", index)), message)
    for object_index, obj in enumerate(artifact.objects):
        for index, action in enumerate(obj.actions or ()):
            message = _script_action_message(action)
            if message and (action.get("objectName", obj.name), action.get("name")) not in reported:
                yield Issue(json_path(("objects", object_index, "actions", index)), message)


def _flow_scripts(flows: list[dict[str, Any]]) -> Iterator[Issue]:
    for flow_index, flow in enumerate(flows):
        for node_index, node in enumerate(flow.get("nodes") or ()):
            if not isinstance(node, dict) or node.get("type") != "script":
                continue
            config = node.get("config") if isinstance(node.get("config"), dict) else {}
            function = config.get("function") or config.get("handler")
            target = f"JavaScript function '{function}'" if function else "JavaScript"
            yield Issue(
                json_path(("flows", flow_index, "nodes", node_index)),
                f"script node '{_name(node)}' of flow '{_name(flow)}' calls {target}, "
                f"which {_NOT_RUN}; {_PROVIDE}",
            )


def _jobs(jobs: list[dict[str, Any]]) -> Iterator[Issue]:
    for index, job in enumerate(jobs):
        if job.get("handler") or _js_body(job):
            handler = job.get("handler") or "its body"
            yield Issue(
                json_path(("jobs", index)),
                f"job '{_name(job)}' runs JavaScript handler '{handler}', which {_NOT_RUN}; "
                f"{_PROVIDE}",
            )
