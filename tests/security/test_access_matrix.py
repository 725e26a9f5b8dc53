"""The access matrix: every sharing model, RLS policy, sharing rule and field rule, for a
user who should see/edit and one who should not, through every route.

Routes: list (GET), get, POST /query, search, count (`total`), expand, PATCH, DELETE,
createMany, updateMany and deleteMany. The matrix artifact is fixtures/security (see
tests/security/conftest.py for its users and rows); the CRM and showcase sections run the
same checks on the shared protocol-17 artifacts.

Answers, exactly:
- object not granted: 403 `{"error": "you may not <read|create|edit|delete> <object>",
  "code": "FORBIDDEN"}` on every route of that operation;
- row outside the read scope: absent from lists, searches and counts; 404 on get;
- row outside the write scope: 404 on PATCH, DELETE and in a batch (the whole batch);
- a visible record is the administrator's record minus the user's hidden fields.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction

from apps.kernel.cache import kernels
from apps.projects import hosts
from apps.security.authentication import credentials
from tests import factories
from tests.security.conftest import SECFIX_USERS, World, email

pytestmark = pytest.mark.django_db

USERS = list(SECFIX_USERS)
OBJECTS = ["sec_account", "sec_deal", "sec_deal_note", "sec_ticket", "sec_vault"]
TOKEN = {  # text every row of the object carries in a searchable field
    "sec_account": "acct",
    "sec_deal": "deal",
    "sec_deal_note": "note",
    "sec_ticket": "ticket",
    "sec_vault": "vault",
}
ACCOUNTS = {"acc_a", "acc_b", "acc_f"}
DEALS = {"deal_a", "deal_b", "deal_won", "deal_emea"}
NOTES = {"note_a", "note_b", "note_won", "note_emea"}
TICKETS = {"t_agent", "t_bob"}
NO = None  # the object is not granted at all: 403


def _table(rows: dict[str, Any], default: Any = NO) -> dict[str, Any]:
    return {user: rows.get(user, default) for user in USERS}


# (object, user) -> the row keys the user reads; NO when the object is not readable.
READ: dict[str, dict[str, set[str] | None]] = {
    # public_read, granted to everyone by the default set sec_everyone
    "sec_account": _table({}, ACCOUNTS),
    # private: owner; won deals shared with sales_manager (read), emea deals with carol
    # (edit); viewAllRecords (auditor) and modifyAllRecords (supervisor) read everything
    "sec_deal": _table(
        {
            "alice": {"deal_a"},
            "bob": {"deal_b", "deal_won", "deal_emea"},
            "carol": {"deal_emea"},
            "manager": {"deal_won"},
            "agent": set(),
            "finance": set(),
            "auditor": DEALS,
            "supervisor": DEALS,
        }
    ),
    # controlled_by_parent: exactly the notes of the deals the user reads; the auditor
    # reads them all through the deal's viewAllRecords; the supervisor has no note grant
    "sec_deal_note": _table(
        {
            "alice": {"note_a"},
            "bob": {"note_b", "note_won", "note_emea"},
            "carol": {"note_emea"},
            "manager": {"note_won"},
            "agent": set(),
            "finance": set(),
            "auditor": NOTES,
        }
    ),
    # public_read_write, narrowed for support agents by `assignee == current_user.email`
    "sec_ticket": _table(
        {
            "alice": TICKETS,
            "bob": TICKETS,
            "carol": TICKETS,
            "manager": TICKETS,
            "agent": {"t_agent"},
            "finance": TICKETS,
        }
    ),
    # private and granted to the auditor only (viewAllRecords)
    "sec_vault": _table({"auditor": {"vault"}}),
}

# (object, user) -> the row keys the user may edit and delete; NO when the set grants
# neither (403). Every other row answers 404.
WRITE: dict[str, dict[str, set[str] | None]] = {
    "sec_account": _table(
        {
            "alice": {"acc_a"},
            "bob": {"acc_b"},
            "carol": set(),
            "manager": set(),
            "agent": set(),
            "finance": {"acc_f"},
        }
    ),
    "sec_deal": _table(
        {
            "alice": {"deal_a"},
            "bob": {"deal_b", "deal_won", "deal_emea"},
            "carol": {"deal_emea"},  # the rule shares with `edit`
            "manager": set(),  # the rule shares with `read`
            "agent": set(),
            "finance": set(),
            "supervisor": DEALS,  # modifyAllRecords
        }
    ),
    "sec_deal_note": _table(
        {
            "alice": {"note_a"},
            "bob": {"note_b", "note_won", "note_emea"},
            "carol": {"note_emea"},
            "manager": set(),
            "agent": set(),
            "finance": set(),
        }
    ),
    "sec_ticket": _table(
        {
            "alice": TICKETS,
            "bob": TICKETS,
            "carol": TICKETS,
            "manager": TICKETS,
            "agent": {"t_agent"},
            "finance": TICKETS,
        }
    ),
    "sec_vault": _table({}),
}

# (object, user) -> fields absent from every answer.
HIDDEN: dict[str, dict[str, set[str]]] = {
    "sec_account": _table({"finance": set()}, {"internal_code"}),
    "sec_deal": _table({"finance": set(), "auditor": set(), "supervisor": set()}, {"margin"}),
}
CREATORS = {
    "sec_account": {"alice", "bob", "carol", "manager", "agent", "finance"},
    "sec_deal": {"alice", "bob", "carol", "manager", "agent", "finance"},
    "sec_deal_note": {"alice", "bob", "carol", "manager", "agent", "finance"},
    "sec_ticket": {"alice", "bob", "carol", "manager", "agent", "finance", "guest"},
    "sec_vault": set(),
}
PATCH = {
    "sec_account": {"industry": "patched"},
    "sec_deal": {"amount": 99},
    "sec_deal_note": {"body": "Note patched"},
    "sec_ticket": {"priority": 3},
    "sec_vault": {"label": "Vault patched"},
}


def forbidden(operation: str, object_name: str) -> dict[str, str]:
    return {"error": f"you may not {operation} {object_name}", "code": "FORBIDDEN"}


def not_found(object_name: str, record_id: str) -> dict[str, str]:
    return {"error": f"{object_name} '{record_id}' not found", "code": "NOT_FOUND"}


@contextmanager
def undone():
    """Runs a successful write and rolls it back, so the next route sees the same rows."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)


def stored(world: World, key: str, column: str) -> Any:
    runtime = world.kernel.object(world.objects[key])
    return runtime.model._base_manager.filter(pk=world.ids[key]).values_list(column, flat=True)[0]


def admin_record(world: World, key: str) -> dict[str, Any]:
    object_name = world.objects[key]
    response = world.client("admin").get(f"/api/v1/data/{object_name}/{world.ids[key]}")
    assert response.status_code == 200, response.content
    return response.json()["record"]


def seen_as(world: World, user: str, key: str) -> dict[str, Any]:
    """The record as `user` must receive it: the admin's minus the user's hidden fields."""
    hidden = HIDDEN.get(world.objects[key], {}).get(user, set())
    return {k: v for k, v in admin_record(world, key).items() if k not in hidden}


def ids_of(records: list[dict[str, Any]]) -> set[str]:
    return {record["id"] for record in records}


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Overrides the conftest fixture: the kernels of the session-published projects stay
    built between the tests of this module; hosts and credentials are re-read per test."""
    hosts.invalidate()
    credentials.clear()
    yield
    hosts.invalidate()
    credentials.clear()


@pytest.fixture(autouse=True, scope="module")
def _drop_kernels_after_module():
    yield
    kernels.clear()


# --- reads: list, count, POST /query, search, get ------------------------------------


@pytest.mark.parametrize("object_name", OBJECTS)
@pytest.mark.parametrize("user", USERS)
def test_read_routes(secfix_world, user, object_name):
    world = secfix_world
    client = world.client(user)
    url = f"/api/v1/data/{object_name}"
    expected = READ[object_name][user]
    every_key = world.keys_of(object_name)
    every_id = [world.ids[k] for k in every_key]

    listed = client.get(url, {"top": 50})
    queried = client.post(f"{url}/query", {"filter": {"id": {"$in": every_id}}}, format="json")
    searched = client.get(url, {"search": TOKEN[object_name]})
    uncounted = client.get(url, {"count": "false"})
    if expected is NO:
        for response in (listed, queried, searched, uncounted):
            assert response.status_code == 403
            assert response.json() == forbidden("read", object_name)
        for record_id in every_id:
            response = client.get(f"{url}/{record_id}")
            assert response.status_code == 403
            assert response.json() == forbidden("read", object_name)
        return

    wanted = {world.ids[k] for k in expected}
    for response in (listed, queried, searched):
        assert response.status_code == 200, response.content
        body = response.json()
        assert ids_of(body["records"]) == wanted
        assert body["total"] == len(wanted)
        assert body["hasMore"] is False
    assert uncounted.json()["total"] is None
    assert ids_of(uncounted.json()["records"]) == wanted
    records = {r["id"]: r for r in listed.json()["records"]}
    for key in every_key:
        record_id = world.ids[key]
        response = client.get(f"{url}/{record_id}")
        if key in expected:
            assert response.status_code == 200
            assert response.json() == {
                "object": object_name,
                "id": record_id,
                "record": seen_as(world, user, key),
            }
            assert records[record_id] == response.json()["record"]
        else:
            assert response.status_code == 404
            assert response.json() == not_found(object_name, record_id)


def test_count_and_paging_only_see_the_scope(secfix_world):
    """`total` counts in the scope also when it needs a COUNT (a page smaller than it)."""
    world = secfix_world
    for user, wanted in (("bob", 3), ("alice", 1), ("manager", 1), ("auditor", 4)):
        body = world.client(user).get("/api/v1/data/sec_deal", {"top": 1}).json()
        assert (len(body["records"]), body["total"], body["hasMore"]) == (1, wanted, wanted > 1)
        skipped = world.client(user).get("/api/v1/data/sec_deal", {"top": 1, "skip": 5}).json()
        assert (skipped["records"], skipped["total"]) == ([], wanted)


# --- writes: PATCH, updateMany, DELETE, deleteMany -----------------------------------


@pytest.mark.parametrize("object_name", OBJECTS)
@pytest.mark.parametrize("user", USERS)
def test_write_routes(secfix_world, user, object_name):
    world = secfix_world
    client = world.client(user)
    url = f"/api/v1/data/{object_name}"
    allowed = WRITE[object_name][user]
    (column, value), = PATCH[object_name].items()  # fmt: skip
    for key in world.keys_of(object_name):
        record_id = world.ids[key]
        before = stored(world, key, column)
        patch = {column: value}
        item = {"id": record_id, column: value}
        if allowed is NO:
            for response, operation in (
                (client.patch(f"{url}/{record_id}", patch, format="json"), "edit"),
                (client.post(f"{url}/updateMany", {"records": [item]}, format="json"), "edit"),
                (client.delete(f"{url}/{record_id}"), "delete"),
                (client.post(f"{url}/deleteMany", {"ids": [record_id]}, format="json"), "delete"),
            ):
                assert response.status_code == 403
                assert response.json() == forbidden(operation, object_name)
        elif key not in allowed:
            for response in (
                client.patch(f"{url}/{record_id}", patch, format="json"),
                client.post(f"{url}/updateMany", {"records": [item]}, format="json"),
                client.delete(f"{url}/{record_id}"),
                client.post(f"{url}/deleteMany", {"ids": [record_id]}, format="json"),
            ):
                assert response.status_code == 404
                assert response.json() == not_found(object_name, record_id)
        else:
            with undone():
                response = client.patch(f"{url}/{record_id}", patch, format="json")
                assert response.status_code == 200, response.content
                assert response.json() == {
                    "object": object_name,
                    "id": record_id,
                    "record": seen_as(world, user, key),
                }
                assert response.json()["record"][column] == value
            with undone():
                response = client.post(f"{url}/updateMany", {"records": [item]}, format="json")
                assert response.status_code == 200, response.content
                assert response.json() == {
                    "object": object_name,
                    "records": [seen_as(world, user, key)],
                    "count": 1,
                }
            with undone():
                response = client.delete(f"{url}/{record_id}")
                assert response.status_code == 200
                assert response.json() == {"object": object_name, "id": record_id, "success": True}
                assert (
                    not world.kernel.object(object_name)
                    .model._base_manager.filter(pk=record_id)
                    .exists()
                )
            with undone():
                response = client.post(f"{url}/deleteMany", {"ids": [record_id]}, format="json")
                assert response.status_code == 200
                assert response.json() == {
                    "object": object_name,
                    "ids": [record_id],
                    "success": True,
                    "count": 1,
                }
        assert stored(world, key, column) == before


@pytest.mark.parametrize("object_name", ["sec_account", "sec_deal", "sec_deal_note", "sec_ticket"])
def test_a_batch_with_one_row_out_of_scope_changes_nothing(secfix_world, object_name):
    world = secfix_world
    user = "alice" if object_name != "sec_ticket" else "agent"
    mine = sorted(WRITE[object_name][user])[0]
    theirs = next(k for k in world.keys_of(object_name) if k not in WRITE[object_name][user])
    client = world.client(user)
    url = f"/api/v1/data/{object_name}"
    (column, value), = PATCH[object_name].items()  # fmt: skip
    before = stored(world, mine, column)
    items = [{"id": world.ids[k], column: value} for k in (mine, theirs)]
    response = client.post(f"{url}/updateMany", {"records": items}, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(object_name, world.ids[theirs])
    assert stored(world, mine, column) == before
    ids = [world.ids[mine], world.ids[theirs]]
    response = client.post(f"{url}/deleteMany", {"ids": ids}, format="json")
    assert response.status_code == 404
    assert response.json() == not_found(object_name, world.ids[theirs])
    assert world.kernel.object(object_name).model._base_manager.filter(pk=ids[0]).exists()


# --- create: POST and createMany -----------------------------------------------------


def new_values(world: World, user: str, object_name: str) -> dict[str, Any]:
    return {
        "sec_account": {"name": f"Acct of {user}"},
        "sec_deal": {"name": f"Deal of {user}", "amount": 5},
        "sec_deal_note": {
            "deal": world.ids[sorted(WRITE["sec_deal"].get(user) or {"deal_a"})[0]],
            "body": f"Note of {user}",
        },
        "sec_ticket": {"subject": f"Ticket of {user}", "assignee": email(user), "priority": 1},
        "sec_vault": {"label": f"Vault of {user}"},
    }[object_name]


@pytest.mark.parametrize("object_name", OBJECTS)
@pytest.mark.parametrize("user", USERS)
def test_create_routes(secfix_world, user, object_name):
    world = secfix_world
    client = world.client(user)
    url = f"/api/v1/data/{object_name}"
    model = world.kernel.object(object_name).model._base_manager
    before = model.count()
    values = new_values(world, user, object_name)
    if user not in CREATORS[object_name]:
        for response in (
            client.post(url, values, format="json"),
            client.post(f"{url}/createMany", {"records": [values]}, format="json"),
        ):
            assert response.status_code == 403
            assert response.json() == forbidden("create", object_name)
        assert model.count() == before
        return
    if object_name == "sec_deal_note" and not WRITE["sec_deal"].get(user):
        # the user edits no deal: adding a note to alice's deal is refused like a missing id
        for response, prefix in (
            (client.post(url, values, format="json"), ""),
            (client.post(f"{url}/createMany", {"records": [values]}, format="json"), "records[0]."),
        ):
            assert response.status_code == 400
            assert response.json() == {
                "error": "validation failed",
                "code": "VALIDATION_FAILED",
                "fields": [
                    {
                        "field": f"{prefix}deal",
                        "code": "invalid_reference",
                        "message": f"no sec_deal with id {values['deal']}",
                    }
                ],
            }
        assert model.count() == before
        return
    with undone():
        response = client.post(url, values, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        row = model.filter(pk=body["id"]).values("owner_id", "created_by").get()
        assert row == {"owner_id": world.users[user].pk, "created_by": world.users[user].pk}
        if user == "guest":  # may create tickets, read none: the answer names the id only
            assert body == {"object": object_name, "id": body["id"], "record": {"id": body["id"]}}
        else:
            fetched = client.get(f"{url}/{body['id']}")
            assert fetched.status_code == 200
            assert body == fetched.json()
            assert {k: body["record"][k] for k in values} == values
            hidden = HIDDEN.get(object_name, {}).get(user, set())
            assert hidden.isdisjoint(body["record"])
    with undone():
        response = client.post(f"{url}/createMany", {"records": [values, values]}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["count"] == 2 and len(body["records"]) == 2
        assert model.count() == before + 2
        if user == "guest":
            assert all(set(r) == {"id"} for r in body["records"])
    assert model.count() == before


# --- expand: a lookup to a row or object the user may not read ----------------------


def test_expand_nests_only_readable_targets_and_their_readable_fields(secfix_world):
    world = secfix_world
    ids = world.ids
    # bob reads both tickets and deal_b (his), but no vault at all
    body = (
        world.client("bob")
        .get("/api/v1/data/sec_ticket", {"expand": "deal,vault", "sort": "subject"})
        .json()
    )
    laptop, printer = body["records"]
    assert printer["deal"] == seen_as(world, "bob", "deal_b")  # nested, margin hidden
    assert "margin" not in printer["deal"]
    assert printer["vault"] == ids["vault"]  # the raw id stays, nothing of the row
    assert laptop["deal"] is None and laptop["vault"] is None
    # alice reads both tickets but not bob's deal: the raw id, no nested record
    body = (
        world.client("alice")
        .get(f"/api/v1/data/sec_ticket/{ids['t_agent']}", {"expand": "deal,vault"})
        .json()
    )
    assert body["record"]["deal"] == ids["deal_b"]
    assert body["record"]["vault"] == ids["vault"]
    # the same through POST /query and a batch answer
    queried = world.client("alice").post(
        "/api/v1/data/sec_ticket/query",
        {"filter": {"id": ids["t_agent"]}, "expand": ["deal"]},
        format="json",
    )
    assert queried.json()["records"][0]["deal"] == ids["deal_b"]
    # the admin gets the nested deal, with margin
    admin = (
        world.client("admin")
        .get(f"/api/v1/data/sec_ticket/{ids['t_agent']}", {"expand": "deal,vault"})
        .json()["record"]
    )
    assert admin["deal"]["margin"] == 0.25
    assert admin["vault"]["label"] == "Vault crown jewels"


@pytest.mark.parametrize(
    "user,deal,expanded",
    [
        ("alice", "deal_a", "acc_a"),  # the account nested without internal_code
        ("auditor", "deal_a", "acc_a"),
        ("auditor", "deal_b", "acc_b"),
    ],
)
def test_expand_of_a_public_read_lookup_hides_the_targets_hidden_fields(
    secfix_world, user, deal, expanded
):
    world = secfix_world
    response = world.client(user).get(
        f"/api/v1/data/sec_deal/{world.ids[deal]}", {"expand": "account"}
    )
    assert response.status_code == 200
    account = response.json()["record"]["account"]
    assert account == seen_as(world, user, expanded)
    assert "internal_code" not in account


def test_expand_of_a_master_follows_the_masters_scope(secfix_world):
    world = secfix_world
    notes = world.client("manager").get("/api/v1/data/sec_deal_note", {"expand": "deal"}).json()
    (note,) = notes["records"]
    assert note["deal"] == seen_as(world, "manager", "deal_won")


@pytest.mark.parametrize(
    "params",
    [
        {"filter": '{"deal.name": "Deal Bravo"}'},
        {"filter": '{"deal.amount": {"$gte": 0}}'},
        {"filter": '["deal.name", "startswith", "Deal"]'},
        {"deal.name": "Deal Bravo"},
    ],
)
def test_a_filter_through_a_lookup_never_matches_a_related_row_out_of_scope(secfix_world, params):
    """alice reads both tickets but not bob's deal: a condition on `deal.<field>` cannot
    tell her anything about it. bob, who reads the deal, finds the ticket."""
    world = secfix_world
    url = "/api/v1/data/sec_ticket"
    alice = world.client("alice").get(url, params)
    assert alice.status_code == 200
    assert (alice.json()["records"], alice.json()["total"]) == ([], 0)
    bob = world.client("bob").get(url, params).json()
    assert ids_of(bob["records"]) == {world.ids["t_agent"]}


def test_negated_and_null_conditions_through_a_lookup_do_not_tell_either(secfix_world):
    world = secfix_world
    url = "/api/v1/data/sec_ticket"
    alice = world.client("alice")
    for spec in ('{"deal.name": {"$ne": "Deal Bravo"}}', '{"deal.name": {"$ne": "Other"}}'):
        # t_bob has no deal (the condition applies as before); t_agent's deal is unreadable
        assert ids_of(alice.get(url, {"filter": spec}).json()["records"]) == {world.ids["t_bob"]}
    for spec in ('{"$not": {"deal.name": "Deal Bravo"}}', '{"$not": {"deal.name": "Other"}}'):
        assert ids_of(alice.get(url, {"filter": spec}).json()["records"]) == {
            world.ids["t_agent"],
            world.ids["t_bob"],
        }


def test_sorting_through_a_lookup_treats_a_related_row_out_of_scope_as_empty(secfix_world):
    world = secfix_world
    for deal in ("deal_won", "deal_emea"):
        world.create("sec_ticket", f"t_{deal}", "alice", subject=f"Ticket {deal}",
                     priority=1, deal=world.ids[deal])  # fmt: skip
    url = "/api/v1/data/sec_ticket"

    def order(user: str, sort: str) -> list[str]:
        records = world.client(user).get(url, {"sort": sort}).json()["records"]
        return [r["subject"] for r in records]

    # bob reads all three deals: amount 20 (printer), 30 (won), 40 (emea); laptop has none
    assert order("bob", "deal.amount") == [
        "Ticket laptop", "Ticket printer", "Ticket deal_won", "Ticket deal_emea"
    ]  # fmt: skip
    assert order("bob", "-deal.amount") == [
        "Ticket deal_emea", "Ticket deal_won", "Ticket printer", "Ticket laptop"
    ]  # fmt: skip
    # alice reads none of them: every ticket sorts as "no value", ties by id either way
    assert order("alice", "deal.amount") == order("alice", "-deal.amount")
    assert order("alice", "deal.amount,subject") == [
        "Ticket deal_emea", "Ticket deal_won", "Ticket laptop", "Ticket printer"
    ]  # fmt: skip
    # carol reads the emea deal only: it sorts alone, the others as "no value"
    assert order("carol", "-deal.amount,subject")[0] == "Ticket deal_emea"
    assert order("carol", "deal.amount,subject")[-1] == "Ticket deal_emea"


# --- RLS check (insert and update) ---------------------------------------------------


def test_rls_check_refuses_writes_outside_it_for_the_position_only(secfix_world):
    world = secfix_world
    url = "/api/v1/data/sec_ticket"
    model = world.kernel.object("sec_ticket").model._base_manager
    before = model.count()
    refused = {
        "error": "the sec_ticket record would violate a row-level security check",
        "code": "FORBIDDEN",
    }
    agent = world.client("agent")
    hot = {"subject": "Ticket hot", "assignee": email("agent"), "priority": 5}
    for response in (
        agent.post(url, hot, format="json"),
        agent.post(f"{url}/createMany", {"records": [{**hot, "priority": 1}, hot]}, format="json"),
        agent.patch(f"{url}/{world.ids['t_agent']}", {"priority": 4}, format="json"),
        agent.post(
            f"{url}/updateMany",
            {"records": [{"id": world.ids["t_agent"], "priority": 4}]},
            format="json",
        ),
    ):
        assert response.status_code == 403
        assert response.json() == refused
    assert model.count() == before
    assert stored(world, "t_agent", "priority") == 1
    # bob holds no support_agent position: the check does not apply to him
    with undone():
        assert world.client("bob").post(url, hot, format="json").status_code == 201
    with undone():
        response = world.client("bob").patch(
            f"{url}/{world.ids['t_agent']}", {"priority": 4}, format="json"
        )
        assert response.status_code == 200


def test_rls_using_still_lets_an_agent_create_for_someone_else(secfix_world):
    """`using` governs reads only: the agent may create a ticket assigned to bob, gets its
    id back (the row is outside its read scope) and cannot read it afterwards."""
    world = secfix_world
    agent = world.client("agent")
    values = {"subject": "Ticket for bob", "assignee": email("bob"), "priority": 2}
    response = agent.post("/api/v1/data/sec_ticket", values, format="json")
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    assert response.json() == {"object": "sec_ticket", "id": record_id, "record": {"id": record_id}}
    assert agent.get(f"/api/v1/data/sec_ticket/{record_id}").status_code == 404
    assert world.client("bob").get(f"/api/v1/data/sec_ticket/{record_id}").status_code == 200


def test_update_moving_a_row_out_of_scope_answers_with_the_id_only(secfix_world):
    world = secfix_world
    record_id = world.ids["t_agent"]
    response = world.client("agent").patch(
        f"/api/v1/data/sec_ticket/{record_id}", {"assignee": email("bob")}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"object": "sec_ticket", "id": record_id, "record": {"id": record_id}}
    assert stored(world, "t_agent", "assignee") == email("bob")


def test_sharing_rules_follow_the_record_when_it_changes(secfix_world):
    """Criteria rules are filters, not grants: a deal leaving the condition leaves the
    scope at once, and one entering it enters."""
    world = secfix_world
    carol = world.client("carol")
    url = f"/api/v1/data/sec_deal/{world.ids['deal_emea']}"
    response = carol.patch(url, {"region": "us"}, format="json")  # edits itself out of reach
    assert response.status_code == 200
    assert response.json()["record"] == {"id": world.ids["deal_emea"]}
    assert carol.get(url).status_code == 404
    bob = world.client("bob")
    assert bob.patch(url, {"region": "emea"}, format="json").status_code == 200
    assert carol.get(url).status_code == 200


# --- field rules ---------------------------------------------------------------------


@pytest.mark.parametrize("route", ["list", "get", "query", "createMany", "updateMany"])
def test_hidden_fields_are_absent_from_every_answer(secfix_world, route):
    world = secfix_world
    alice = world.client("alice")
    url = "/api/v1/data/sec_account"
    acc_a = world.ids["acc_a"]
    if route == "list":
        records = alice.get(url).json()["records"]
    elif route == "get":
        records = [alice.get(f"{url}/{acc_a}").json()["record"]]
    elif route == "query":
        records = alice.post(f"{url}/query", {"select": ["name"]}, format="json").json()["records"]
        assert all(set(r) == {"id", "name"} for r in records)
    elif route == "createMany":
        response = alice.post(
            f"{url}/createMany", {"records": [{"name": "Acct new"}]}, format="json"
        )
        records = response.json()["records"]
    else:
        response = alice.post(
            f"{url}/updateMany", {"records": [{"id": acc_a, "industry": "x"}]}, format="json"
        )
        records = response.json()["records"]
    assert records
    assert all("internal_code" not in r for r in records)
    if route != "query":
        assert all("revenue" in r for r in records)  # readable, not editable


@pytest.mark.parametrize(
    "params",
    [
        {"filter": '{"internal_code": "IC-ACME"}'},
        {"filter": '["internal_code", "=", "IC-ACME"]'},
        {"filter": '{"$or": [{"name": "x"}, {"internal_code": {"$startsWith": "IC"}}]}'},
        {"internal_code": "IC-ACME"},
        {"sort": "internal_code"},
        {"sort": "-internal_code"},
        {"select": "name,internal_code"},
    ],
)
def test_hidden_field_in_list_parameters_is_an_invalid_field(secfix_world, params):
    world = secfix_world
    for user, status in (("alice", 400), ("outsider", 400), ("finance", 200)):
        response = world.client(user).get("/api/v1/data/sec_account", params)
        assert response.status_code == status, (user, response.content)
        if status == 400:
            assert response.json()["code"] == "INVALID_FIELD"
            assert response.json()["field"] == "internal_code"


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"account.internal_code": "IC-ACME"}},
        {"sort": ["account.internal_code"]},
        {"filter": {"margin": {"$gt": 0}}},
        {"sort": [{"field": "margin", "order": "desc"}]},
        {"select": ["margin"]},
    ],
)
def test_hidden_field_in_a_query_body_or_through_a_lookup_is_an_invalid_field(secfix_world, body):
    world = secfix_world
    response = world.client("alice").post("/api/v1/data/sec_deal/query", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_FIELD"
    assert response.json()["field"] in {"account.internal_code", "margin"}
    assert (
        world.client("auditor")
        .post(
            "/api/v1/data/sec_deal/query",
            {k: v for k, v in body.items() if "margin" in str(v)},
            format="json",
        )
        .status_code
        == 200
    )


def test_search_never_matches_a_hidden_field(secfix_world):
    world = secfix_world
    url = "/api/v1/data/sec_account"
    assert world.client("alice").get(url, {"search": "IC-ACME"}).json()["total"] == 0
    finance = world.client("finance").get(url, {"search": "IC-ACME"}).json()
    assert ids_of(finance["records"]) == {world.ids["acc_a"]}


def test_expand_of_a_hidden_field_is_an_invalid_field(secfix_world):
    """Expanding a hidden field answers exactly like expanding one that does not exist."""
    world = secfix_world
    for name in ("internal_code", "no_such_field"):
        response = world.client("alice").get("/api/v1/data/sec_account", {"expand": name})
        assert response.status_code == 400
        assert response.json() == {
            "error": f"'{name}' is not an expandable lookup field",
            "code": "INVALID_FIELD",
            "field": name,
        }


def test_writing_a_read_only_field_is_forbidden_naming_it(secfix_world):
    world = secfix_world
    url = "/api/v1/data/sec_account"
    acc_a = world.ids["acc_a"]
    expected = {
        "error": "you may not set revenue",
        "code": "FORBIDDEN",
        "fields": [
            {"field": "revenue", "code": "not_editable", "message": "this field cannot be set"}
        ],
    }
    alice = world.client("alice")
    assert alice.patch(f"{url}/{acc_a}", {"revenue": 1}, format="json").json() == expected
    assert alice.post(url, {"name": "Acct x", "revenue": 1}, format="json").json() == expected
    batch = alice.post(
        f"{url}/updateMany", {"records": [{"id": acc_a, "revenue": 1}]}, format="json"
    )
    assert batch.status_code == 403
    assert batch.json() == {
        "error": "you may not set records[0].revenue",
        "code": "FORBIDDEN",
        "fields": [
            {
                "field": "records[0].revenue",
                "code": "not_editable",
                "message": "this field cannot be set",
            }
        ],
    }
    assert stored(world, "acc_a", "revenue") == 1000
    # finance's set makes revenue and internal_code editable, on the row it owns
    response = world.client("finance").patch(
        f"{url}/{world.ids['acc_f']}", {"revenue": 1, "internal_code": "IC-NEW"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["record"]["internal_code"] == "IC-NEW"


def test_writing_a_hidden_field_is_as_if_it_did_not_exist(secfix_world):
    world = secfix_world
    response = world.client("alice").patch(
        f"/api/v1/data/sec_account/{world.ids['acc_a']}", {"internal_code": "IC-X"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "unknown field 'internal_code'",
        "code": "INVALID_FIELD",
        "field": "internal_code",
    }
    assert stored(world, "acc_a", "internal_code") == "IC-ACME"


# --- the CRM example (crm-minimal-v17) -----------------------------------------------


@pytest.fixture
def crm_users(crm):
    return {
        "sales": factories.make_user("sales@crm.test", crm, permission_sets=["crm_sales_user"]),
        "guest": factories.make_user("guest@crm.test", crm, permission_sets=["guest_portal"]),
        "nobody": factories.make_user("nobody@crm.test", crm),
    }


CRM_OBJECTS = [
    "crm_account",
    "crm_contact",
    "crm_opportunity",
    "crm_opportunity_line_item",
    "crm_lead",
    "crm_activity",
]


@pytest.mark.parametrize("object_name", CRM_OBJECTS)
def test_crm_sales_user_reads_and_edits_everything_but_deletes_nothing(
    crm, crm_client, crm_users, object_name
):
    """Every CRM object is public_read_write (line items follow their public opportunity):
    the sales user reads all rows the admin reads, edits them, and may delete none."""
    url = f"/api/v1/data/{object_name}"
    if object_name == "crm_opportunity_line_item":  # the CRM seeds none
        opportunity = crm_client.get("/api/v1/data/crm_opportunity").json()["records"][0]["id"]
        line = {"opportunity": opportunity, "product": "Widget", "quantity": 2, "unit_price": 5}
        assert crm_client.post(url, line, format="json").status_code == 201
    admin = crm_client.get(url, {"top": 500}).json()
    sales = factories.api_client(crm, crm_users["sales"])
    body = sales.get(url, {"top": 500}).json()
    assert ids_of(body["records"]) == ids_of(admin["records"])
    assert body["total"] == admin["total"] > 0
    record = admin["records"][0]
    assert sales.get(f"{url}/{record['id']}").json() == {
        "object": object_name,
        "id": record["id"],
        "record": record,
    }
    response = sales.patch(f"{url}/{record['id']}", {}, format="json")
    assert response.status_code == 200
    response = sales.delete(f"{url}/{record['id']}")
    assert response.status_code == 403
    assert response.json() == forbidden("delete", object_name)
    for user in ("guest", "nobody"):
        if user == "guest" and object_name == "crm_lead":
            continue
        client = factories.api_client(crm, crm_users[user])
        assert client.get(url).json() == forbidden("read", object_name)
        assert client.get(f"{url}/{record['id']}").status_code == 403
        assert client.post(url, {}, format="json").json() == forbidden("create", object_name)


def test_crm_guest_portal_creates_leads_it_cannot_read(crm, crm_client, crm_users):
    guest = factories.api_client(crm, crm_users["guest"])
    response = guest.post(
        "/api/v1/data/crm_lead",
        {"name": "Web form lead", "email": "lead@example.com", "company": "Example"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    assert response.json() == {"object": "crm_lead", "id": record_id, "record": {"id": record_id}}
    assert guest.get("/api/v1/data/crm_lead").json() == forbidden("read", "crm_lead")
    assert guest.get(f"/api/v1/data/crm_lead/{record_id}").status_code == 403
    assert guest.patch(f"/api/v1/data/crm_lead/{record_id}", {}, format="json").json() == (
        forbidden("edit", "crm_lead")
    )
    lead = crm_client.get(f"/api/v1/data/crm_lead/{record_id}").json()["record"]
    assert (lead["name"], lead["owner_id"]) == ("Web form lead", crm_users["guest"].pk)


# --- the showcase (showcase-v17): RLS using/check, scopes, controlled_by_parent ------


@pytest.fixture
def showcase_users(showcase):
    contributor = (["showcase_contributor"], ["contributor"])
    return {
        "ada": factories.make_user(
            "ada@example.com", showcase, permission_sets=contributor[0], positions=contributor[1]
        ),
        "linus": factories.make_user(
            "linus@example.com", showcase, permission_sets=contributor[0], positions=contributor[1]
        ),
        "tasker": factories.make_user(
            "auditor.demo@example.com",
            showcase,
            permission_sets=contributor[0],
            positions=contributor[1],
        ),
        "unpositioned": factories.make_user(
            "free@showcase.test", showcase, permission_sets=["showcase_contributor"]
        ),
        "manager": factories.make_user(
            "mgr@showcase.test",
            showcase,
            permission_sets=["showcase_manager"],
            positions=["manager"],
        ),
    }


def _names(client, url: str, field: str = "name", **params) -> set[str]:
    response = client.get(url, {"top": 500, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == len(body["records"])
    return {r[field] for r in body["records"]}


@pytest.mark.parametrize(
    "user,invoices,lines",
    [
        ("ada", {"INV-1001", "INV-1002", "INV-1005", "INV-1008", "INV-1011"}, 3),
        ("linus", {"INV-1003", "INV-1006", "INV-1009", "INV-1012"}, 1),
        ("tasker", set(), 0),
    ],
)
def test_showcase_invoice_rls_using_and_lines_following_it(
    showcase, showcase_users, user, invoices, lines
):
    client = factories.api_client(showcase, showcase_users[user])
    assert _names(client, "/api/v1/data/showcase_invoice") == invoices
    body = client.get("/api/v1/data/showcase_invoice_line", {"top": 500}).json()
    assert (len(body["records"]), body["total"]) == (lines, lines)
    assert _names(client, "/api/v1/data/showcase_invoice", search="INV") == invoices


def test_showcase_invoice_rls_check_keeps_the_owner(showcase, showcase_client, showcase_users):
    ada = factories.api_client(showcase, showcase_users["ada"])
    ids = {
        r["name"]: r["id"]
        for r in showcase_client.get("/api/v1/data/showcase_invoice", {"top": 50}).json()["records"]
    }
    mine = f"/api/v1/data/showcase_invoice/{ids['INV-1001']}"
    response = ada.patch(mine, {"owner": "linus@example.com"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": "the showcase_invoice record would violate a row-level security check",
        "code": "FORBIDDEN",
    }
    assert ada.patch(mine, {"status": "paid"}, format="json").status_code == 200
    theirs = f"/api/v1/data/showcase_invoice/{ids['INV-1003']}"
    assert ada.patch(theirs, {"status": "paid"}, format="json").json() == not_found(
        "showcase_invoice", ids["INV-1003"]
    )
    assert ada.get(theirs).status_code == 404


def test_showcase_task_rls_is_scoped_to_the_position(showcase, showcase_client, showcase_users):
    every = _names(showcase_client, "/api/v1/data/showcase_task", "title")
    tasker = factories.api_client(showcase, showcase_users["tasker"])
    free = factories.api_client(showcase, showcase_users["unpositioned"])
    mine = _names(tasker, "/api/v1/data/showcase_task", "title")
    assert len(mine) == 3 and mine < every
    assert _names(free, "/api/v1/data/showcase_task", "title") == every


def test_showcase_private_contacts_reach_managers_through_read_scope_org(
    showcase, showcase_client, showcase_users
):
    """showcase_contact is private (no owner on the seed rows). showcase_manager reads it
    with `readScope: org`, which covers every row, so its criteria rule for the manager
    position (qualified Northwind contacts) adds nothing here; the matrix artifact tests
    rules shared with a position on their own. Without the set, the position is nothing."""
    every = _names(showcase_client, "/api/v1/data/showcase_contact")
    assert len(every) == 32
    manager = factories.api_client(showcase, showcase_users["manager"])
    assert _names(manager, "/api/v1/data/showcase_contact") == every
    contact_id = manager.get("/api/v1/data/showcase_contact").json()["records"][0]["id"]
    assert manager.patch(
        f"/api/v1/data/showcase_contact/{contact_id}", {}, format="json"
    ).json() == forbidden("edit", "showcase_contact")
    position_only = factories.make_user(
        "position.only@showcase.test", showcase, positions=["manager"]
    )
    client = factories.api_client(showcase, position_only)
    assert client.get("/api/v1/data/showcase_contact").json() == forbidden(
        "read", "showcase_contact"
    )
    assert client.get(f"/api/v1/data/showcase_contact/{contact_id}").status_code == 403


def test_showcase_contributor_cannot_edit_read_only_budget(
    showcase, showcase_client, showcase_users
):
    ada = factories.api_client(showcase, showcase_users["ada"])
    project = showcase_client.get("/api/v1/data/showcase_project").json()["records"][0]
    url = f"/api/v1/data/showcase_project/{project['id']}"
    response = ada.patch(url, {"budget": 1, "spent": 2}, format="json")
    assert response.status_code == 403
    assert response.json()["fields"] == [
        {"field": "budget", "code": "not_editable", "message": "this field cannot be set"},
        {"field": "spent", "code": "not_editable", "message": "this field cannot be set"},
    ]
    assert ada.get(url).json()["record"]["budget"] == project["budget"]
    assert ada.patch(url, {"health": "red"}, format="json").status_code == 200


@pytest.mark.parametrize(
    "permission_set,reads,patch_status",
    [
        (None, 0, 403),  # the default set: read and create, private: own rows only
        ("showcase_manager", 3, 404),  # readScope org, writeScope own
        ("showcase_ops", 3, 200),  # readScope org, writeScope org
        ("showcase_executive", 3, 403),  # readScope org, no edit
    ],
)
def test_showcase_read_and_write_scope_org_reach_every_row(
    showcase, showcase_client, permission_set, reads, patch_status
):
    """`readScope`/`writeScope: org` widen a set's reach to every row of a private object;
    `own` (and the unit scopes, with no business units modelled) stay with the owner."""
    user = factories.make_user(
        "scoped@showcase.test", showcase, permission_sets=[permission_set] if permission_set else []
    )
    client = factories.api_client(showcase, user)
    inquiries = showcase_client.get("/api/v1/data/showcase_inquiry").json()["records"]
    assert len(inquiries) == 3
    body = client.get("/api/v1/data/showcase_inquiry").json()
    assert (len(body["records"]), body["total"]) == (reads, reads)
    url = f"/api/v1/data/showcase_inquiry/{inquiries[0]['id']}"
    assert client.patch(url, {"status": "contacted"}, format="json").status_code == patch_status
