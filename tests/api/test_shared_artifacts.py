"""The real protocol-17 artifacts of ../shared/artifacts, served through real HTTP requests.

Each v17 artifact publishes and every object lists its seed rows; every object of the CRM
example goes through create, get, list, update and delete with exact bodies and audit
rows; seed lookups, CEL seed dates, formulas and summaries come out exactly. The two
legacy (pre-17) artifacts are refused with one issue per retired key.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.audit.models import AuditEvent
from tests import factories
from tests.conftest import SHARED_V17

pytestmark = pytest.mark.django_db

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SYSTEM_FIELDS = ("id", "owner_id", "created_by", "created_at", "updated_by", "updated_at")


def today() -> dt.date:
    """The date CEL's today() uses: the current UTC date."""
    return timezone.now().astimezone(dt.UTC).date()


def artifact_objects(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in raw["objects"]}


def seeded_totals(raw: dict[str, Any]) -> dict[str, int]:
    """Rows per object after loading the seed `data` for OS_ENV: blocks for other
    environments and for objects the artifact does not define are skipped; upsert and
    ignore blocks keep one row per externalId value."""
    objects = artifact_objects(raw)
    keyed: dict[str, set] = {name: set() for name in objects}
    unkeyed = dict.fromkeys(objects, 0)
    for block in raw.get("data") or []:
        if block.get("env") and settings.OS_ENV not in block["env"]:
            continue
        if block["object"] not in objects:
            continue
        keys = block.get("externalId") or []
        keys = [keys] if isinstance(keys, str) else keys
        for record in block["records"]:
            if keys and all(record.get(k) is not None for k in keys):
                keyed[block["object"]].add(tuple(json.dumps(record[k]) for k in keys))
            else:
                unkeyed[block["object"]] += 1
    return {name: len(keyed[name]) + unkeyed[name] for name in objects}


def crm_raw() -> dict[str, Any]:
    return factories.shared_artifact(SHARED_V17["crm"])


def one(client, object_name: str, **equal: Any) -> dict[str, Any]:
    """The single record of `object_name` whose fields equal `equal`."""
    response = client.get(f"/api/v1/data/{object_name}", {"filter": json.dumps(equal)})
    assert response.status_code == 200, response.content
    records = response.json()["records"]
    assert len(records) == 1, (object_name, equal, records)
    return records[0]


# -- every v17 artifact publishes and lists its seed rows ---------------------------


@pytest.fixture(scope="session", params=list(SHARED_V17))
def published_v17(request, shared_session):
    """(name, project) for each v17 artifact, published before any test transaction."""
    return request.param, shared_session(request.param)


def test_artifact_publishes_and_every_object_lists_its_seed_rows(published_v17, db):
    name, project = published_v17
    project.refresh_from_db()
    raw = factories.shared_artifact(SHARED_V17[name])
    client = factories.api_client(project, factories.make_user(f"admin@{name}.test", project))
    expected = seeded_totals(raw)
    assert list(expected) == [o["name"] for o in raw["objects"]]
    for object_name, total in expected.items():
        response = client.get(f"/api/v1/data/{object_name}", {"top": 200})
        assert response.status_code == 200, (object_name, response.content)
        body = response.json()
        assert set(body) == {"object", "records", "total", "hasMore"}
        assert (body["object"], body["total"], body["hasMore"]) == (object_name, total, False)
        assert len(body["records"]) == total
        fields = raw["objects"][list(expected).index(object_name)]["fields"]
        returned = {n for n, f in fields.items() if f["type"] != "password"}
        for record in body["records"]:
            assert set(record) == set(SYSTEM_FIELDS) | returned, object_name


def test_seeded_totals_of_the_crm():
    assert seeded_totals(crm_raw()) == {
        "crm_account": 3,
        "crm_activity": 5,
        "crm_contact": 3,
        "crm_lead": 5,
        "crm_opportunity": 12,
        "crm_opportunity_line_item": 0,
    }


# -- seed data: lookups, CEL dates, formulas, summaries ------------------------------


def test_seed_lookups_point_at_the_named_records(crm_client):
    acme = one(crm_client, "crm_account", name="Acme Corp")
    globex = one(crm_client, "crm_account", name="Globex Ltd")
    initech = one(crm_client, "crm_account", name="Initech")
    ada = one(crm_client, "crm_contact", email="ada@acme.example")
    assert (ada["first_name"], ada["account"]) == ("Ada", acme["id"])
    assert one(crm_client, "crm_contact", email="linus@globex.example")["account"] == globex["id"]
    assert one(crm_client, "crm_contact", email="grace@initech.example")["account"] == initech["id"]

    renewal = one(crm_client, "crm_opportunity", name="Acme — Q3 Platform Renewal")
    assert renewal["account"] == acme["id"]
    # by the target's externalId (crm_opportunity.name) and the contact's email
    tesla = one(crm_client, "crm_lead", email="nikola@wardenclyffe.example")
    assert (tesla["converted_opportunity"], tesla["account"]) == (renewal["id"], None)
    call = one(crm_client, "crm_activity", subject="Discovery Call — Bletchley Systems")
    assert (call["contact"], call["account"], call["opportunity"]) == (
        ada["id"],
        acme["id"],
        renewal["id"],
    )
    expanded = crm_client.get(
        f"/api/v1/data/crm_contact/{ada['id']}", {"expand": "account"}
    ).json()["record"]
    assert expanded["account"] == acme


def test_cel_seed_dates_are_stored_as_real_dates(crm_client):
    raw = crm_raw()
    offsets = {"daysFromNow": 1, "daysAgo": -1}
    seeded = [b for b in raw["data"] if b["object"] == "crm_opportunity"][0]["records"]
    for record in seeded:
        function, days = re.fullmatch(r"(\w+)\((\d+)\)", record["close_date"]["source"]).groups()
        expected = today() + dt.timedelta(days=offsets[function] * int(days))
        stored = one(crm_client, "crm_opportunity", name=record["name"])
        assert stored["close_date"] == expected.isoformat(), record["name"]
        # the date is a real date column: it compares as a date in filters
        matched = crm_client.get(
            "/api/v1/data/crm_opportunity",
            {"filter": json.dumps({"name": record["name"], "close_date": {"$lte": str(expected)}})},
        ).json()
        assert matched["total"] == 1
        assert stored["days_to_close"] == offsets[function] * int(days)
    # a datetime seeded from a CEL date is midnight UTC of that date
    demo = one(crm_client, "crm_activity", subject="Product Demo — Globex New CRM")
    assert demo["due_date"] == f"{today() + dt.timedelta(days=5)}T00:00:00.000Z"
    soon = crm_client.get(
        "/api/v1/data/crm_activity",
        {
            "filter": json.dumps({"due_date": {"$gt": timezone.now().isoformat()}}),
            "sort": "due_date",
        },
    ).json()
    assert [r["subject"] for r in soon["records"]] == [
        "Proposal Review — Helix Analytics",
        "Product Demo — Globex New CRM",
        "Quarterly Business Review — Acme Corp",
    ]


def test_formula_fields_are_computed_exactly(crm_client):
    contacts = crm_client.get("/api/v1/data/crm_contact", {"sort": "last_name"}).json()
    assert [(r["first_name"], r["last_name"], r["full_name"]) for r in contacts["records"]] == [
        ("Grace", "Hopper", "Grace Hopper"),
        ("Ada", "Lovelace", "Ada Lovelace"),
        ("Linus", "Torvalds", "Linus Torvalds"),
    ]
    seeded = [b for b in crm_raw()["data"] if b["object"] == "crm_opportunity"][0]["records"]
    for record in seeded:
        stored = one(crm_client, "crm_opportunity", name=record["name"])
        assert stored["expected_revenue"] == record["amount"] * record["probability"] / 100
        assert (stored["amount"], stored["probability"]) == (
            record["amount"],
            record["probability"],
        )
    leads = crm_client.get("/api/v1/data/crm_lead", {"sort": "name"}).json()["records"]
    assert [(r["name"], r["is_closed"]) for r in leads] == [
        ("Alan Turing", False),
        ("Marie Curie", False),
        ("Nikola Tesla", True),
        ("Rosalind Franklin", False),
        ("Thomas Edison", True),
    ]
    # a contact without first name: the formula's null branch
    created = crm_client.post(
        "/api/v1/data/crm_contact", {"last_name": "Nobody"}, format="json"
    ).json()
    assert created["record"]["full_name"] == "Nobody"


def test_summary_line_total_sums_the_line_items(crm_client):
    renewal = one(crm_client, "crm_opportunity", name="Acme — Q3 Platform Renewal")
    other = one(crm_client, "crm_opportunity", name="Initech — Pilot")
    assert (renewal["line_total"], other["line_total"]) == (0, 0)
    lines = [
        {"product": "Seats", "quantity": 3, "unit_price": 19.99, "amount": 59.97},
        {"product": "Support", "quantity": 1, "unit_price": 100.5, "amount": 100.5},
    ]
    ids = []
    for line in lines:
        response = crm_client.post(
            "/api/v1/data/crm_opportunity_line_item",
            {"opportunity": renewal["id"], **line},
            format="json",
        )
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    crm_client.post(
        "/api/v1/data/crm_opportunity_line_item",
        {"opportunity": other["id"], "product": "Pilot", "quantity": 1, "amount": 7},
        format="json",
    )
    fetched = crm_client.get(f"/api/v1/data/crm_opportunity/{renewal['id']}").json()["record"]
    assert fetched["line_total"] == 160.47
    listed = crm_client.get(
        "/api/v1/data/crm_opportunity", {"sort": "-line_total", "top": 2, "select": "line_total"}
    ).json()["records"]
    assert listed == [
        {"id": renewal["id"], "line_total": 160.47},
        {"id": other["id"], "line_total": 7},
    ]
    # master_detail cascades: deleting the opportunity deletes its lines
    assert crm_client.delete(f"/api/v1/data/crm_opportunity/{renewal['id']}").status_code == 200
    remaining = crm_client.get(
        "/api/v1/data/crm_opportunity_line_item",
        {"filter": json.dumps({"id": {"$in": ids}})},
    ).json()
    assert (remaining["records"], remaining["total"]) == ([], 0)
    event = AuditEvent.objects.get(action="delete", record_id=renewal["id"])
    assert event.details == {"cascaded": {"crm_opportunity_line_item": 2}}


# -- CRUD on every object of the CRM --------------------------------------------------


def crm_case(client, object_name: str) -> dict[str, Any]:
    """For one object: the create payload, the wire values the created record must show
    beyond the payload (defaults, formulas, conversions), and the field to update."""
    acme = one(client, "crm_account", name="Acme Corp")["id"]
    ada = one(client, "crm_contact", email="ada@acme.example")["id"]
    renewal = one(client, "crm_opportunity", name="Acme — Q3 Platform Renewal")["id"]
    close = today() + dt.timedelta(days=40)
    return {
        "crm_account": {
            "payload": {
                "name": "Umbrella Corp",
                "annual_revenue": 750000.5,
                "website": "https://umbrella.example",
            },
            "shows": {"industry": "technology"},
            "update": ("industry", "technology", "healthcare"),
        },
        "crm_activity": {
            "payload": {
                "subject": "Kick-off call",
                "type": "meeting",
                "status": "in_progress",
                "due_date": "2026-12-01T09:30:00+02:00",
                "contact": ada,
                "account": acme,
                "opportunity": renewal,
                "duration_minutes": 30,
                "description": "Agenda: scope, timeline",
            },
            "shows": {"due_date": "2026-12-01T07:30:00.000Z"},
            "update": ("status", "in_progress", "completed"),
        },
        "crm_contact": {
            "payload": {
                "first_name": "Charles",
                "last_name": "Babbage",
                "email": "charles@acme.example",
                "account": acme,
            },
            "shows": {"full_name": "Charles Babbage"},
            "update": ("last_name", "Babbage", "Babbage-Smith"),
            "after_update": {"full_name": "Charles Babbage-Smith"},
        },
        "crm_lead": {
            "payload": {
                "name": "Hedy Lamarr",
                "email": "hedy@patents.example",
                "phone": "+1-555-0606",
                "company": "Frequency Hopping Inc",
                "account": acme,
            },
            "shows": {"status": "new", "source": "web", "lead_score": 0, "is_closed": False},
            # a transition the lead_status_transitions rule allows (new -> disqualified)
            "update": ("status", "new", "disqualified"),
            "after_update": {"is_closed": True},
        },
        "crm_opportunity": {
            "payload": {
                "name": "Acme — Training Package",
                "account": acme,
                "stage": "proposal",
                "amount": 1000,
                "probability": 25,
                "close_date": close.isoformat(),
            },
            "shows": {
                "discount_percent": 0,
                "expected_revenue": 250,
                "days_to_close": 40,
                "line_total": 0,
            },
            # a transition the opp_stage_transitions rule allows (proposal -> closed_lost)
            "update": ("stage", "proposal", "closed_lost"),
        },
        "crm_opportunity_line_item": {
            "payload": {
                "opportunity": renewal,
                "product": "Seats",
                "quantity": 3,
                "unit_price": 19.99,
                "amount": 59.97,
            },
            "shows": {},
            "update": ("product", "Seats", "Seats (annual)"),
        },
    }[object_name]


@pytest.mark.parametrize(
    "object_name",
    [
        "crm_account",
        "crm_activity",
        "crm_contact",
        "crm_lead",
        "crm_opportunity",
        "crm_opportunity_line_item",
    ],
)
def test_crud_on_every_crm_object(crm_client, crm_admin, object_name):
    fields = artifact_objects(crm_raw())[object_name]["fields"]
    case = crm_case(crm_client, object_name)
    url = f"/api/v1/data/{object_name}"

    created = crm_client.post(url, case["payload"], format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    record_id = body["id"]
    assert set(body) == {"object", "id", "record"}
    assert (body["object"], body["record"]["id"]) == (object_name, record_id)
    record = body["record"]
    assert ISO_Z.match(record["created_at"]) and record["updated_at"] == record["created_at"]
    expected = {
        "id": record_id,
        "owner_id": crm_admin.pk,
        "created_by": crm_admin.pk,
        "updated_by": crm_admin.pk,
        "created_at": record["created_at"],
        "updated_at": record["created_at"],
        **dict.fromkeys(fields),
        **case["payload"],
        **case["shows"],
    }
    assert record == expected

    fetched = crm_client.get(f"{url}/{record_id}")
    assert fetched.status_code == 200
    assert fetched.json() == {"object": object_name, "id": record_id, "record": record}

    listed = crm_client.get(url, {"filter": json.dumps({"id": record_id})})
    assert listed.status_code == 200
    assert listed.json() == {
        "object": object_name,
        "records": [record],
        "total": 1,
        "hasMore": False,
    }
    listed = crm_client.get(url, {"filter": json.dumps(["id", "=", record_id])})
    assert listed.json()["records"] == [record]

    field, old, new = case["update"]
    updated = crm_client.patch(f"{url}/{record_id}", {field: new}, format="json")
    assert updated.status_code == 200, updated.content
    after = updated.json()
    assert (after["object"], after["id"]) == (object_name, record_id)
    assert ISO_Z.match(after["record"]["updated_at"])
    assert after["record"]["updated_at"] >= record["updated_at"]
    assert after["record"] == {
        **record,
        field: new,
        "updated_at": after["record"]["updated_at"],
        **case.get("after_update", {}),
    }
    assert crm_client.get(f"{url}/{record_id}").json()["record"] == after["record"]

    deleted = crm_client.delete(f"{url}/{record_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"object": object_name, "id": record_id, "success": True}
    missing = crm_client.get(f"{url}/{record_id}")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": f"{object_name} '{record_id}' not found",
        "code": "NOT_FOUND",
    }
    again = crm_client.delete(f"{url}/{record_id}")
    assert (again.status_code, again.json()["code"]) == (404, "NOT_FOUND")
    assert crm_client.patch(f"{url}/{record_id}", {field: old}, format="json").status_code == 404
    assert crm_client.get(url, {"filter": json.dumps({"id": record_id})}).json()["total"] == 0

    events = list(
        AuditEvent.objects.filter(chain="crm", object_name=object_name, record_id=record_id)
        .order_by("seq")
        .values_list("action", "changes", "actor_user_id")
    )
    assert [(action, actor) for action, _, actor in events] == [
        ("create", crm_admin.pk),
        ("update", crm_admin.pk),
        ("delete", crm_admin.pk),
    ]
    assert events[1][1] == [[field, old, new]]
    assert [field, None, old] in events[0][1]
    assert [field, new, None] in events[2][1]


def test_required_fields_of_every_crm_object_are_enforced(crm_client):
    raw = crm_raw()
    for object_name, definition in artifact_objects(raw).items():
        required = {
            n
            for n, f in definition["fields"].items()
            if f.get("required")
            and f.get("defaultValue") is None
            and not any(o.get("default") for o in f.get("options") or [])
        }
        response = crm_client.post(f"/api/v1/data/{object_name}", {}, format="json")
        assert response.status_code == 400, object_name
        body = response.json()
        assert body["code"] == "VALIDATION_FAILED"
        assert {(f["field"], f["code"]) for f in body["fields"]} == {
            (n, "required") for n in required
        }, object_name


def test_lookup_to_a_missing_record_is_refused(crm_client):
    response = crm_client.post(
        "/api/v1/data/crm_contact", {"last_name": "X", "account": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "validation failed",
        "code": "VALIDATION_FAILED",
        "fields": [
            {
                "field": "account",
                "code": "invalid_reference",
                "message": "no crm_account with id nope",
            }
        ],
    }


@pytest.fixture(scope="session")
def todo_session(shared_session):
    return shared_session("todo")


def test_lookup_to_the_user_table_has_no_database_constraint(todo_session, db):
    """todo_task.owner is a `lookup` to sys_user: like a `user` field it must not tie
    project rows to auth_user with a foreign key (deleting a user would fail on commit,
    and so does flushing the user table)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    user_table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "todo__todo_task")
    assert [
        name for name, c in constraints.items() if (c["foreign_key"] or ("",))[0] == user_table
    ] == []
    client = factories.api_client(todo_session, factories.make_user("admin@todo.test"))
    task = client.get("/api/v1/data/todo_task", {"top": 1}).json()["records"][0]
    owner = factories.make_user("owner@todo.test")
    updated = client.patch(
        f"/api/v1/data/todo_task/{task['id']}", {"owner": str(owner.pk)}, format="json"
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["record"]["owner"] == owner.pk
    # a lookup to the users takes user ids, as integers or their digits
    assert (
        client.patch(
            f"/api/v1/data/todo_task/{task['id']}", {"owner": owner.pk}, format="json"
        ).json()["record"]["owner"]
        == owner.pk
    )
    for value, code, message in (
        ("999999", "invalid_reference", "no user with id 999999"),
        ("not-a-user-id", "invalid_type", "owner: expected a user id (integer), got string"),
    ):
        refused = client.patch(
            f"/api/v1/data/todo_task/{task['id']}", {"owner": value}, format="json"
        )
        assert refused.status_code == 400, refused.content
        assert refused.json()["fields"] == [{"field": "owner", "code": code, "message": message}]


# -- legacy artifacts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "filename,retired",
    [
        (
            "objectstack.2026-05-29.crm-v4.json",
            ["approvals", "policies", "portals", "roles", "themes", "workflows"],
        ),
        ("objectstack.2026-05-24.enterprise-crm.json", ["approvals", "roles"]),
    ],
)
def test_legacy_artifacts_are_refused_with_the_retired_keys(filename, retired):
    path = factories.SHARED_ARTIFACTS / "crm-legacy-compiled" / filename
    if not path.exists():
        pytest.skip(f"shared artifacts not present: {path}")
    with pytest.raises(ArtifactInvalid) as error:
        load_artifact(path)
    issues = {str(issue).split(":")[0]: str(issue) for issue in error.value.issues}
    assert sorted(p for p in issues if "." not in p and "[" not in p) == retired
    for key in retired:
        assert issues[key].startswith(f"{key}: `{key}`"), issues[key]
        assert "retired in protocol 17" in issues[key], issues[key]
    # the sharing rules' `role` recipients are listed one by one as well
    assert all(p.startswith("sharingRules[") and p.endswith(".type") for p in issues if "." in p)
