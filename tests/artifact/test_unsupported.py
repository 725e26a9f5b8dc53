"""Tests of apps.artifact.unsupported: every JavaScript part is reported as a warning, once."""

from __future__ import annotations

from apps.artifact.load import load_artifact

NOT_RUN = "is not executed by the Python runtime; provide it as a Python plugin"


def test_crm_minimal_warns_about_its_hook(shared_path) -> None:
    loaded = load_artifact(shared_path("crm-minimal-v17"))
    assert [str(w) for w in loaded.warnings] == [
        f"hooks[0]: JavaScript hook body 'opportunity_stage_probability' {NOT_RUN}"
    ]


def test_showcase_warnings(shared_path) -> None:
    warnings = load_artifact(shared_path("showcase-v17")).warnings
    by_path = {w.path: w.message for w in warnings}
    assert len(warnings) == len(by_path) == 86
    assert [w.path for w in warnings if w.path.startswith("hooks")] == [
        f"hooks[{i}]" for i in range(4)
    ]
    assert by_path["hooks[0]"] == f"JavaScript hook body 'showcase_normalize_task_title' {NOT_RUN}"
    assert [w.path for w in warnings if w.path.startswith("plugins")] == [
        f"plugins[{i}]" for i in range(8)
    ]
    assert by_path["plugins[3]"] == (
        "Node.js plugin 'com.objectstack.connector.slack' (0.0.0-stub) is not loaded by the "
        "Python runtime; provide it as a Python plugin"
    )
    assert by_path["runtimeModule"] == (
        "JavaScript runtime module './objectstack-runtime.f97b1970b75ade50.mjs' is not executed by "
        "the Python runtime; the handlers it bundles are unavailable unless provided as Python plugins"
    )
    assert [w.path for w in warnings if w.path.startswith("pages")] == [
        "pages[0]",
        "pages[1]",
        "pages[22]",
        "pages[23]",
        "pages[24]",
        "pages[27]",
    ]
    assert [w.path for w in warnings if w.path.startswith("functions")] == [
        "functions.summarizeCompletedTask",
        "functions.sweepProjectHealth",
    ]
    assert by_path["jobs[0]"].startswith(
        "job 'showcase_health_sweep' runs JavaScript handler 'sweepProjectHealth'"
    )
    assert by_path["flows[0].nodes[1]"].startswith(
        "script node 'summarize' of flow 'showcase_task_completed'"
    )
    # 63 script actions with JS bodies; the objects' copies of them are reported once, here.
    assert len([w for w in warnings if w.path.startswith("actions[")]) == 63
    assert not [w for w in warnings if w.path.startswith("objects")]
    assert (
        by_path["actions[0]"] == f"JavaScript body of script action 'showcase_mark_done' {NOT_RUN}"
    )


def test_todo_warns_about_handlers(shared_path) -> None:
    warnings = [str(w) for w in load_artifact(shared_path("todo-v17")).warnings]
    assert len(warnings) == 12
    assert warnings[0] == f"hooks[0]: JavaScript hook body 'task_logic' {NOT_RUN}"
    assert warnings[2] == (
        f"actions[0]: script action 'clone_task' calls JavaScript handler 'cloneTask', which {NOT_RUN}"
    )


def test_object_only_script_action_is_reported_at_the_object() -> None:
    action = {"name": "go", "type": "script", "body": {"language": "js", "source": "return 1"}}
    loaded = load_artifact(
        {"manifest": {"id": "x"}, "objects": [{"name": "thing", "actions": [action]}]}
    )
    assert [str(w) for w in loaded.warnings] == [
        f"objects[0].actions[0]: JavaScript body of script action 'go' {NOT_RUN}"
    ]
