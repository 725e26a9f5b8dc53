"""load_artifact / approve_artifact / rollback_artifact from the command line."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.audit.models import AuditEvent
from apps.projects.models import AppVersion, Project

pytestmark = pytest.mark.django_db(transaction=True)

BASE = {
    "manifest": {"id": "cli.test", "namespace": "cli", "version": "1.0.0"},
    "objects": [
        {
            "name": "cli_item",
            "label": "Item",
            "fields": {
                "title": {"type": "text", "required": True, "maxLength": 100},
                "size": {"type": "number"},
            },
        }
    ],
    "data": [
        {
            "object": "cli_item",
            "externalId": "title",
            "mode": "upsert",
            "records": [{"title": "first", "size": 1}, {"title": "second", "size": 2}],
        }
    ],
}


def write(tmp_path, artifact, name="objectstack.json"):
    path = tmp_path / name
    path.write_text(json.dumps(artifact))
    return str(path)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def columns(table):
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def rows(table, *cols):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY 1')
        return cursor.fetchall()


def test_invalid_artifact_lists_every_problem_and_changes_nothing(tmp_path):
    bad = copy.deepcopy(BASE)
    bad["objects"].append({"name": "cli_other", "fields": {"amount": {"type": "moneyy"}}})
    bad["objects"][0]["fields"]["owner"] = {"type": "lookup", "reference": "nope"}
    bad["data"][0]["records"][0]["colour"] = "red"
    with pytest.raises(CommandError) as error:
        run("load_artifact", write(tmp_path, bad), "--approve")
    assert str(error.value).startswith("artifact is invalid: 3 problem(s), nothing was changed")
    assert not Project.objects.filter(name="cli").exists()
    assert not AppVersion.objects.filter(project__name="cli").exists()
    assert not AuditEvent.objects.filter(chain="cli").exists()
    assert "cli__cli_item" not in connection.introspection.table_names()


def test_invalid_artifact_prints_json_paths(tmp_path, capsys):
    bad = copy.deepcopy(BASE)
    bad["objects"][0]["fields"]["size"]["type"] = "moneyy"
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("load_artifact", write(tmp_path, bad), stdout=StringIO(), stderr=err)
    assert "objects[0].fields.size.type: unknown field type 'moneyy'" in err.getvalue()


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(CommandError) as error:
        run("load_artifact", str(tmp_path / "absent.json"))
    assert "absent.json" in str(error.value)
    assert "\n" not in str(error.value)


def test_plan_waits_for_approval_then_publishes(tmp_path):
    out, _ = run("load_artifact", write(tmp_path, BASE), "--host", "cli.test")
    assert "[additive     ] create object cli_item: 2 fields" in out
    assert "pending approval: python manage.py approve_artifact cli 1" in out
    project = Project.objects.get(name="cli")
    assert project.published_version is None
    assert "cli__cli_item" not in connection.introspection.table_names()

    out, _ = run("approve_artifact", "cli", "1")
    assert "published cli version 1" in out
    project.refresh_from_db()
    assert project.published_version.number == 1
    assert rows("cli__cli_item", "title", "size") == [("first", 1.0), ("second", 2.0)]
    actions = list(AuditEvent.objects.filter(chain="cli").values_list("action", flat=True))
    assert actions[:2] == ["artifact.load", "artifact.publish"]
    assert actions.count("create") == 2

    out, _ = run("load_artifact", write(tmp_path, BASE), "--approve")
    assert "artifact unchanged" in out
    assert AppVersion.objects.filter(project=project).count() == 1


def test_destructive_change_refused_without_flag_and_data_kept(tmp_path):
    run("load_artifact", write(tmp_path, BASE), "--approve")
    smaller = copy.deepcopy(BASE)
    del smaller["objects"][0]["fields"]["size"]
    for record in smaller["data"][0]["records"]:
        record.pop("size")
    with pytest.raises(CommandError) as error:
        run("load_artifact", write(tmp_path, smaller, "v2.json"), "--approve")
    assert "destructive" in str(error.value) and "version 2 stays pending" in str(error.value)
    assert "size" in columns("cli__cli_item")
    assert rows("cli__cli_item", "title", "size") == [("first", 1.0), ("second", 2.0)]
    assert Project.objects.get(name="cli").published_version.number == 1

    out, _ = run("approve_artifact", "cli", "2", "--allow-destructive")
    assert "[destructive  ] drop field cli_item.size" in out
    assert "size" not in columns("cli__cli_item")
    assert rows("cli__cli_item", "title") == [("first",), ("second",)]


def test_additive_change_and_rollback(tmp_path):
    run("load_artifact", write(tmp_path, BASE), "--approve")
    bigger = copy.deepcopy(BASE)
    bigger["objects"][0]["fields"]["colour"] = {"type": "select", "options": ["red", "blue"]}
    bigger["objects"].append({"name": "cli_tag", "fields": {"name": {"type": "text"}}})
    out, _ = run("load_artifact", write(tmp_path, bigger, "v2.json"), "--approve")
    assert "[additive     ] add field cli_item.colour: add select field" in out
    assert "[additive     ] create object cli_tag: 1 fields" in out
    assert "colour" in columns("cli__cli_item")

    with pytest.raises(CommandError) as error:
        run("rollback_artifact", "cli", "1")
    assert "destructive" in str(error.value)
    out, _ = run("rollback_artifact", "cli", "1", "--allow-destructive")
    assert "cli now serves version 1" in out
    assert Project.objects.get(name="cli").published_version.number == 1
    assert "cli__cli_tag" not in connection.introspection.table_names()
    assert rows("cli__cli_item", "title", "size") == [("first", 1.0), ("second", 2.0)]
    assert AuditEvent.objects.filter(chain="cli", action="artifact.rollback").count() == 1


def test_create_user_and_api_key(tmp_path):
    run("load_artifact", write(tmp_path, BASE), "--approve", "--host", "cli.test")
    out, _ = run(
        "create_user", "Ann@Example.com", "--password", "long-enough-pw", "--project", "cli"
    )
    assert out.startswith("created user ann@example.com")
    key, _ = run("create_api_key", "ann@example.com", "--project", "cli")
    key = key.strip()
    assert key.startswith("osk_")
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="cli.test")
    response = client.get("/api/v1/data/cli_item", HTTP_X_API_KEY=key)
    assert response.status_code == 403  # a member without permission sets: nobody
    assert response.json() == {"error": "you may not read cli_item", "code": "FORBIDDEN"}
    run("create_user", "ann@example.com", "--password", "long-enough-pw", "--superuser")
    from apps.security.authentication import credentials

    credentials.clear()  # the key's user row is cached with the key for OS_AUTH_CACHE_TTL
    response = client.get("/api/v1/data/cli_item", HTTP_X_API_KEY=key)
    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert client.get("/api/v1/data/cli_item", HTTP_X_API_KEY=key + "x").status_code == 401
    with pytest.raises(CommandError):
        run("create_user", "not-an-email", "--password", "long-enough-pw")
    with pytest.raises(CommandError):
        run("create_api_key", "ann@example.com", "--project", "nope")


def test_owner_lookup_and_select_columns_are_indexed(tmp_path):
    indexed = copy.deepcopy(BASE)
    indexed["objects"][0]["fields"]["status"] = {"type": "select", "options": ["a", "b"]}
    indexed["objects"].append(
        {"name": "cli_part", "fields": {"item": {"type": "master_detail", "reference": "cli_item"}}}
    )
    run("load_artifact", write(tmp_path, indexed), "--approve")
    with connection.cursor() as cursor:
        item = connection.introspection.get_constraints(cursor, "cli__cli_item")
        part = connection.introspection.get_constraints(cursor, "cli__cli_part")
    item_indexes = {tuple(c["columns"]) for c in item.values() if c["index"]}
    part_indexes = {tuple(c["columns"]) for c in part.values() if c["index"]}
    assert {("owner_id",), ("created_at",), ("status",)} <= item_indexes
    assert ("item",) in part_indexes


def test_row_rules_that_cannot_be_compiled_are_reported_at_load(tmp_path):
    ruled = copy.deepcopy(BASE)
    ruled["permissions"] = [{"name": "reader", "objects": {"cli_item": {"allowRead": True}},
                             "rowLevelSecurity": [
                                 {"name": "ok", "object": "cli_item", "operation": "select",
                                  "using": "record.size > 1"},
                                 {"name": "bad", "object": "cli_item", "operation": "select",
                                  "using": "record.size * 2 > record.title.size()"}]}]
    out, _ = run("load_artifact", write(tmp_path, ruled))
    lines = [line for line in out.splitlines() if "rowLevelSecurity" in line]
    assert len(lines) == 1
    assert lines[0].startswith("warning: permissions[0].rowLevelSecurity[1].using: cannot be "
                               "compiled to a row filter, it will match nothing")
