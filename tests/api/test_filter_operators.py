"""Every filter operator, in the Mongo form and the array form, via GET and POST /query.

A small artifact (deals with text, number, currency, date, select, tags, boolean and
lookup fields; seeded customers) and eight deals inserted by each test through the API.
Each case names the exact titles it must match, NULL rows included or excluded on
purpose. Then sort, select, paging, count, search, implicit equality and expand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

ARTIFACT: dict[str, Any] = {
    "manifest": {"id": "test.filters", "namespace": "flt", "version": "1.0.0", "name": "Filters"},
    "objects": [
        {
            "name": "flt_customer",
            "label": "Customer",
            "fields": {
                "name": {"type": "text", "required": True, "searchable": True},
                "tier": {
                    "type": "select",
                    "options": [
                        {"label": "Gold", "value": "gold"},
                        {"label": "Silver", "value": "silver"},
                    ],
                },
            },
        },
        {
            "name": "flt_deal",
            "label": "Deal",
            "fields": {
                "title": {"type": "text", "required": True, "searchable": True},
                "notes": {"type": "textarea", "searchable": True},
                "qty": {"type": "number"},
                "amount": {"type": "currency", "scale": 2},
                "due": {"type": "date"},
                "status": {
                    "type": "select",
                    "options": [
                        {"label": "Open", "value": "open"},
                        {"label": "Won", "value": "won"},
                        {"label": "Lost", "value": "lost"},
                    ],
                },
                "tags": {"type": "tags"},
                "hot": {"type": "boolean"},
                "customer": {
                    "type": "lookup",
                    "reference": "flt_customer",
                    "deleteBehavior": "set_null",
                },
                "pin": {"type": "secret"},
                "meta": {"type": "json"},
            },
        },
    ],
    "data": [
        {
            "object": "flt_customer",
            "externalId": "name",
            "mode": "upsert",
            "records": [
                {"name": "Acme", "tier": "gold"},
                {"name": "Globex", "tier": "silver"},
                {"name": "Initech"},
            ],
        }
    ],
}
DEALS = "/api/v1/data/flt_deal"
QUERY = "/api/v1/data/flt_deal/query"

# (title, qty, amount, due, status, tags, hot, customer, notes); "-" leaves a field out
ROWS = [
    ("Alpha", 1, 100, "2026-01-10", "open", ["red", "blue"], True, "Acme", "First deal"),
    ("Bravo", 5, 250.5, "2026-02-15", "won", ["blue"], False, "Acme", "50% off_sale"),
    ("Charlie", 10, 999.99, "2026-03-20", "lost", [], True, "Globex", None),
    ("delta", None, None, None, None, None, "-", None, "lowercase title"),
    ("Echo", 0, 0, "2026-01-10", "open", ["green"], False, "Initech", "Echo echo"),
    ("Foxtrot", -3, 1500, "2025-12-31", "won", ["red"], False, "Globex", "under_score"),
    ("Golf", 7.5, 75.25, "2026-06-01", "open", ["red", "green"], True, None, "100%"),
    ("Hotel", 2, 20, "2026-02-15", "lost", ["blue", "green"], None, "Initech", "ALPHA in caps"),
]
ALL = sorted(row[0] for row in ROWS)


@pytest.fixture(scope="session")
def filters_session(publish_session):
    return publish_session("filterops", ARTIFACT)


@pytest.fixture
def client(filters_session, db):
    filters_session.refresh_from_db()
    return factories.api_client(filters_session, factories.make_user("admin@filterops.test"))


@pytest.fixture
def customers(client) -> dict[str, str]:
    body = client.get("/api/v1/data/flt_customer").json()
    return {r["name"]: r["id"] for r in body["records"]}


@pytest.fixture
def deals(client, customers) -> dict[str, str]:
    """The eight deals, inserted through the API; title -> id."""
    records = []
    for title, qty, amount, due, status, tags, hot, customer, notes in ROWS:
        record = {
            "title": title,
            "qty": qty,
            "amount": amount,
            "due": due,
            "status": status,
            "tags": tags,
            "customer": customers[customer] if customer else None,
            "notes": notes,
        }
        if hot != "-":
            record["hot"] = hot
        records.append(record)
    response = client.post(f"{DEALS}/createMany", {"records": records}, format="json")
    assert response.status_code == 201, response.content
    return {r["title"]: r["id"] for r in response.json()["records"]}


def get_titles(client, filter_spec: Any, **params: Any) -> list[str]:
    response = client.get(DEALS, {"filter": json.dumps(filter_spec), "top": 100, **params})
    assert response.status_code == 200, response.content
    return sorted(r["title"] for r in response.json()["records"])


def post_titles(client, filter_spec: Any, **params: Any) -> list[str]:
    response = client.post(QUERY, {"filter": filter_spec, "top": 100, **params}, format="json")
    assert response.status_code == 200, response.content
    return sorted(r["title"] for r in response.json()["records"])


def matches(client, filter_spec: Any) -> list[str]:
    """Titles matched, checked to be the same through GET ?filter= and POST /query."""
    by_get = get_titles(client, filter_spec)
    assert post_titles(client, filter_spec) == by_get, filter_spec
    return by_get


# (operator, Mongo form, array form, titles matched)
CASES: list[tuple[str, Any, Any, list[str]]] = [
    ("$eq", {"qty": {"$eq": 5}}, ["qty", "=", 5], ["Bravo"]),
    ("$eq-bare", {"status": "won"}, ["status", "==", "won"], ["Bravo", "Foxtrot"]),
    ("$eq-null", {"status": None}, ["status", "=", None], ["delta"]),
    ("$eq-currency", {"amount": 250.5}, ["amount", "eq", 250.5], ["Bravo"]),
    ("$eq-date", {"due": "2026-01-10"}, ["due", "=", "2026-01-10"], ["Alpha", "Echo"]),
    ("$eq-bool", {"hot": True}, ["hot", "=", True], ["Alpha", "Charlie", "Golf"]),
    (
        "$ne",
        {"status": {"$ne": "open"}},
        ["status", "!=", "open"],
        ["Bravo", "Charlie", "Foxtrot", "Hotel", "delta"],
    ),
    (
        "$ne-bool",
        {"hot": {"$ne": True}},
        ["hot", "<>", True],
        ["Bravo", "Echo", "Foxtrot", "Hotel", "delta"],
    ),
    ("$ne-null", {"status": {"$ne": None}}, ["status", "ne", None], sorted(set(ALL) - {"delta"})),
    ("$gt", {"qty": {"$gt": 2}}, ["qty", ">", 2], ["Bravo", "Charlie", "Golf"]),
    ("$gte", {"qty": {"$gte": 2}}, ["qty", ">=", 2], ["Bravo", "Charlie", "Golf", "Hotel"]),
    ("$lt", {"qty": {"$lt": 1}}, ["qty", "<", 1], ["Echo", "Foxtrot"]),
    ("$lte", {"qty": {"$lte": 1}}, ["qty", "<=", 1], ["Alpha", "Echo", "Foxtrot"]),
    ("$gt-date", {"due": {"$gt": "2026-02-15"}}, ["due", ">", "2026-02-15"], ["Charlie", "Golf"]),
    ("$lt-date", {"due": {"$lt": "2026-01-10"}}, ["due", "<", "2026-01-10"], ["Foxtrot"]),
    (
        "$gte-currency",
        {"amount": {"$gte": 250.5}},
        ["amount", ">=", 250.5],
        ["Bravo", "Charlie", "Foxtrot"],
    ),
    (
        "$in",
        {"status": {"$in": ["won", "lost"]}},
        ["status", "in", ["won", "lost"]],
        ["Bravo", "Charlie", "Foxtrot", "Hotel"],
    ),
    (
        "$in-null",
        {"status": {"$in": ["won", None]}},
        ["status", "in", ["won", None]],
        ["Bravo", "Foxtrot", "delta"],
    ),
    ("$in-empty", {"status": {"$in": []}}, ["status", "in", []], []),
    (
        "$nin",
        {"status": {"$nin": ["open", "won"]}},
        ["status", "not in", ["open", "won"]],
        ["Charlie", "Hotel", "delta"],
    ),
    (
        "$nin-null",
        {"status": {"$nin": ["open", None]}},
        ["status", "nin", ["open", None]],
        ["Bravo", "Charlie", "Foxtrot", "Hotel"],
    ),
    (
        "$between",
        {"amount": {"$between": [75.25, 250.5]}},
        ["amount", "between", [75.25, 250.5]],
        ["Alpha", "Bravo", "Golf"],
    ),
    (
        "$between-date",
        {"due": {"$between": ["2026-01-10", "2026-02-15"]}},
        ["due", "between", ["2026-01-10", "2026-02-15"]],
        ["Alpha", "Bravo", "Echo", "Hotel"],
    ),
    (
        "$contains",
        {"title": {"$contains": "ha"}},
        ["title", "contains", "ha"],
        ["Alpha", "Charlie"],
    ),
    (
        "$contains-case",
        {"notes": {"$contains": "ALPHA"}},
        ["notes", "contains", "ALPHA"],
        ["Hotel"],
    ),
    (
        "$contains-wild",
        {"notes": {"$contains": "%"}},
        ["notes", "contains", "%"],
        ["Bravo", "Golf"],
    ),
    (
        "$contains-underscore",
        {"notes": {"$contains": "_"}},
        ["notes", "contains", "_"],
        ["Bravo", "Foxtrot"],
    ),
    (
        "$notContains",
        {"notes": {"$notContains": "e"}},
        ["notes", "notcontains", "e"],
        ["Charlie", "Golf", "Hotel"],
    ),
    (
        "$icontains",
        {"title": {"$icontains": "A"}},
        ["title", "icontains", "A"],
        ["Alpha", "Bravo", "Charlie", "delta"],
    ),
    (
        "$icontains-notes",
        {"notes": {"$icontains": "alpha"}},
        ["notes", "icontains", "alpha"],
        ["Hotel"],
    ),
    ("$startsWith", {"title": {"$startsWith": "Ch"}}, ["title", "startswith", "Ch"], ["Charlie"]),
    ("$startsWith-case", {"title": {"$startsWith": "D"}}, ["title", "startsWith", "D"], []),
    ("$endsWith", {"title": {"$endsWith": "o"}}, ["title", "endswith", "o"], ["Bravo", "Echo"]),
    ("$like", {"title": {"$like": "_o%"}}, ["title", "like", "_o%"], ["Foxtrot", "Golf", "Hotel"]),
    ("$like-case", {"title": {"$like": "%a"}}, ["title", "like", "%a"], ["Alpha", "delta"]),
    (
        "$like-escape",
        {"notes": {"$like": "%\\_%"}},
        ["notes", "like", "%\\_%"],
        ["Bravo", "Foxtrot"],
    ),
    ("$ilike", {"title": {"$ilike": "%LPH%"}}, ["title", "ilike", "%LPH%"], ["Alpha"]),
    (
        "$ilike-notes",
        {"notes": {"$ilike": "echo%"}},
        ["notes", "ilike", "echo%"],
        ["Echo"],
    ),
    ("$null", {"due": {"$null": True}}, ["due", "is null"], ["delta"]),
    (
        "$null-false",
        {"due": {"$null": False}},
        ["due", "is not null"],
        sorted(set(ALL) - {"delta"}),
    ),
    (
        "$exists",
        {"amount": {"$exists": True}},
        ["amount", "exists", True],
        sorted(set(ALL) - {"delta"}),
    ),
    ("$exists-false", {"amount": {"$exists": False}}, ["amount", "exists", False], ["delta"]),
    (
        "$and",
        {"$and": [{"status": "open"}, {"hot": True}]},
        ["and", ["status", "=", "open"], ["hot", "=", True]],
        ["Alpha", "Golf"],
    ),
    (
        "$and-implicit",
        {"status": "open", "qty": {"$gt": 0, "$lt": 5}},
        [["status", "=", "open"], ["qty", ">", 0], ["qty", "<", 5]],
        ["Alpha"],
    ),
    (
        "$or",
        {"$or": [{"qty": {"$gt": 9}}, {"status": "lost"}]},
        ["or", ["qty", ">", 9], ["status", "=", "lost"]],
        ["Charlie", "Hotel"],
    ),
    (
        "$not",
        {"$not": {"status": "open"}},
        ["not", ["status", "=", "open"]],
        ["Bravo", "Charlie", "Foxtrot", "Hotel", "delta"],
    ),
    (
        "$not-field",
        {"qty": {"$not": {"$gt": 2}}},
        ["not", ["qty", ">", 2]],
        ["Alpha", "Echo", "Foxtrot", "Hotel", "delta"],
    ),
    (
        "nested",
        {
            "$or": [
                {"$and": [{"hot": True}, {"qty": {"$lt": 5}}]},
                {"$not": {"due": {"$null": False}}},
            ]
        },
        ["or", ["and", ["hot", "=", True], ["qty", "<", 5]], ["not", ["due", "is not null"]]],
        ["Alpha", "delta"],
    ),
    # list fields (tags): element tests
    (
        "tags-$contains",
        {"tags": {"$contains": "red"}},
        ["tags", "contains", "red"],
        ["Alpha", "Foxtrot", "Golf"],
    ),
    ("tags-$eq-scalar", {"tags": "blue"}, ["tags", "=", "blue"], ["Alpha", "Bravo", "Hotel"]),
    ("tags-$eq-list", {"tags": ["red", "blue"]}, ["tags", "=", ["red", "blue"]], ["Alpha"]),
    (
        "tags-$in",
        {"tags": {"$in": ["green", "blue"]}},
        ["tags", "in", ["green", "blue"]],
        ["Alpha", "Bravo", "Echo", "Golf", "Hotel"],
    ),
    (
        "tags-$nin",
        {"tags": {"$nin": ["red"]}},
        ["tags", "not in", ["red"]],
        ["Bravo", "Charlie", "Echo", "Hotel", "delta"],
    ),
    ("tags-$null", {"tags": {"$null": True}}, ["tags", "is null"], ["Charlie", "delta"]),
    (
        "tags-$exists",
        {"tags": {"$exists": True}},
        ["tags", "exists", True],
        ["Alpha", "Bravo", "Echo", "Foxtrot", "Golf", "Hotel"],
    ),
    # lookups: by id and by dotted path into the target
    ("lookup-$null", {"customer": {"$null": True}}, ["customer", "is null"], ["Golf", "delta"]),
    (
        "dotted-$eq",
        {"customer.name": "Acme"},
        ["customer.name", "=", "Acme"],
        ["Alpha", "Bravo"],
    ),
    (
        "dotted-$startsWith",
        {"customer.name": {"$startsWith": "G"}},
        ["customer.name", "startswith", "G"],
        ["Charlie", "Foxtrot"],
    ),
    (
        "dotted-$ne",
        {"customer.tier": {"$ne": "gold"}},
        ["customer.tier", "!=", "gold"],
        ["Charlie", "Echo", "Foxtrot", "Golf", "Hotel", "delta"],
    ),
    (
        "dotted-$null",
        {"customer.tier": {"$null": True}},
        ["customer.tier", "is null"],
        ["Echo", "Golf", "Hotel", "delta"],
    ),
    # canonical operator names are accepted in the array form too
    ("array-$gte", {"qty": {"$gte": 7.5}}, ["qty", "$gte", 7.5], ["Charlie", "Golf"]),
]


@pytest.mark.parametrize("mongo,array,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_operator_in_both_forms_and_both_transports(client, deals, mongo, array, expected):
    assert matches(client, mongo) == expected
    assert matches(client, array) == expected


def test_cases_cover_every_operator():
    from apps.security.rules.conditions import FILTER_OPERATORS

    named = {c[0].split("-")[0] for c in CASES}
    assert FILTER_OPERATORS | {"$and", "$or", "$not"} <= named


def test_lookup_by_id(client, deals, customers):
    assert matches(client, {"customer": customers["Acme"]}) == ["Alpha", "Bravo"]
    assert matches(client, ["customer", "in", [customers["Acme"], customers["Initech"]]]) == [
        "Alpha",
        "Bravo",
        "Echo",
        "Hotel",
    ]
    assert matches(client, {"customer": {"$ne": customers["Acme"]}}) == [
        "Charlie",
        "Echo",
        "Foxtrot",
        "Golf",
        "Hotel",
        "delta",
    ]


def test_filter_on_ids(client, deals):
    wanted = [deals["Alpha"], deals["Hotel"]]
    assert matches(client, {"id": {"$in": wanted}}) == ["Alpha", "Hotel"]
    assert matches(client, ["id", "=", deals["Echo"]]) == ["Echo"]


@pytest.mark.parametrize(
    "filter_spec,field",
    [
        ({"tags": {"$gt": "a"}}, "tags"),
        ({"tags": {"$like": "r%"}}, "tags"),
        ({"qty": {"$contains": "1"}}, "qty"),
        ({"qty": {"$like": "1%"}}, "qty"),
        ({"hot": {"$gt": False}}, "hot"),
        ({"hot": {"$startsWith": "t"}}, "hot"),
        ({"status": {"$gt": "open"}}, "status"),
        ({"status": {"$contains": "pe"}}, "status"),
        ({"due": {"$contains": "2026"}}, "due"),
        ({"customer": {"$startsWith": "a"}}, "customer"),
        ({"pin": "1234"}, "pin"),
        ({"pin": {"$contains": "1"}}, "pin"),
        ({"meta": {"$gt": 1}}, "meta"),
        ({"meta": {"$contains": "x"}}, "meta"),
        (["amount", "like", "1%"], "amount"),
        (["tags", "between", ["a", "z"]], "tags"),
    ],
)
def test_operator_the_field_type_does_not_support_is_a_400(client, deals, filter_spec, field):
    for response in (
        client.get(DEALS, {"filter": json.dumps(filter_spec)}),
        client.post(QUERY, {"filter": filter_spec}, format="json"),
    ):
        assert response.status_code == 400, (filter_spec, response.content)
        body = response.json()
        assert (body["code"], body["field"]) == ("INVALID_QUERY", field), body
        assert "not supported" in body["error"], body


@pytest.mark.parametrize(
    "filter_spec,code",
    [
        ({"qty": {"$gt": "many"}}, "INVALID_QUERY"),
        ({"due": {"$lt": "soon"}}, "INVALID_QUERY"),
        ({"qty": {"$between": [1]}}, "INVALID_QUERY"),
        ({"qty": {"$in": 5}}, "INVALID_QUERY"),
        ({"qty": {"$gt": None}}, "INVALID_QUERY"),
        ({"qty": {"$foo": 1}}, "INVALID_QUERY"),
        ({"$xor": []}, "INVALID_QUERY"),
        (["qty", "~", 1], "INVALID_QUERY"),
        (["qty", ">"], "INVALID_QUERY"),
        ({"hot": {"$null": "maybe"}}, "INVALID_QUERY"),
        ({"nope": 1}, "INVALID_FIELD"),
        ({"customer.nope": 1}, "INVALID_FIELD"),
        ({"title.name": 1}, "INVALID_FIELD"),
        ("title = 'x'", "INVALID_QUERY"),
    ],
)
def test_bad_filters_are_400(client, deals, filter_spec, code):
    for response in (
        client.get(DEALS, {"filter": json.dumps(filter_spec)}),
        client.post(QUERY, {"filter": filter_spec}, format="json"),
    ):
        assert response.status_code == 400, (filter_spec, response.content)
        assert response.json()["code"] == code


def test_filter_that_is_not_json_is_a_400(client):
    response = client.get(DEALS, {"filter": "{status: open}"})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("INVALID_QUERY", "filter")


# -- sort ------------------------------------------------------------------------------------


def listed(client, method: str = "get", **params: Any) -> dict[str, Any]:
    if method == "get":
        response = client.get(DEALS, params)
    else:
        response = client.post(QUERY, params, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    "sort",
    [
        "-qty,title",
        "qty desc, title asc",
        '["-qty", "title"]',
        '[{"field": "qty", "order": "desc"}, "title"]',
    ],
)
def test_sort_spellings_on_the_query_string(client, deals, sort):
    body = listed(client, sort=sort, filter=json.dumps({"qty": {"$ne": None}}))
    assert [r["title"] for r in body["records"]] == [
        "Charlie",
        "Golf",
        "Bravo",
        "Hotel",
        "Alpha",
        "Echo",
        "Foxtrot",
    ]


@pytest.mark.parametrize(
    "sort",
    [
        "-qty,title",
        ["-qty", "title"],
        [{"field": "qty", "order": "desc"}, {"field": "title"}],
        {"qty": -1, "title": 1},
    ],
)
def test_sort_spellings_in_the_query_body(client, deals, sort):
    body = listed(client, "post", sort=sort, filter={"qty": {"$ne": None}})
    assert [r["title"] for r in body["records"]] == [
        "Charlie",
        "Golf",
        "Bravo",
        "Hotel",
        "Alpha",
        "Echo",
        "Foxtrot",
    ]


def test_sort_by_several_fields_and_ties(client, deals):
    body = listed(client, sort="due,-amount", filter=json.dumps({"due": {"$ne": None}}))
    assert [(r["due"], r["title"]) for r in body["records"]] == [
        ("2025-12-31", "Foxtrot"),
        ("2026-01-10", "Alpha"),
        ("2026-01-10", "Echo"),
        ("2026-02-15", "Bravo"),
        ("2026-02-15", "Hotel"),
        ("2026-03-20", "Charlie"),
        ("2026-06-01", "Golf"),
    ]


def test_nulls_sort_the_same_on_every_database(client, deals):
    """NULL sorts as the smallest value (first ascending, last descending) on SQLite and
    PostgreSQL alike, so pages are the same on both."""
    ascending = listed(client, sort="qty", select="qty")["records"]
    descending = listed(client, sort="-qty", select="qty")["records"]
    assert [r["qty"] for r in ascending] == [None, -3, 0, 1, 2, 5, 7.5, 10]
    assert [r["qty"] for r in descending] == [10, 7.5, 5, 2, 1, 0, -3, None]


def test_sort_by_lookup_path_and_unknown_sort_field(client, deals):
    body = listed(
        client, sort="customer.name,title", filter=json.dumps({"customer": {"$ne": None}})
    )
    assert [r["title"] for r in body["records"]] == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Foxtrot",
        "Echo",
        "Hotel",
    ]
    for sort in ("nope", "-nope", "customer.nope"):
        response = client.get(DEALS, {"sort": sort})
        assert response.status_code == 400
        assert response.json()["code"] == "INVALID_FIELD"
    assert client.get(DEALS, {"sort": "tags"}).status_code == 400


# -- select, paging, count ----------------------------------------------------------------


def test_select_returns_only_the_named_fields(client, deals):
    for params in (
        {"select": "title,qty"},
        {"fields": "title, qty"},
        {"select": '["title", "qty"]'},
    ):
        body = listed(client, sort="title", top=2, **params)
        assert body["records"] == [
            {"id": deals["Alpha"], "title": "Alpha", "qty": 1},
            {"id": deals["Bravo"], "title": "Bravo", "qty": 5},
        ]
    body = listed(client, "post", select=["title"], sort="title", top=1)
    assert body["records"] == [{"id": deals["Alpha"], "title": "Alpha"}]


def test_top_skip_total_and_has_more(client, deals):
    everything = [r["title"] for r in listed(client, sort="created_at,title", top=100)["records"]]
    assert sorted(everything) == ALL
    page = listed(client, sort="created_at,title", top=3, skip=2)
    assert [r["title"] for r in page["records"]] == everything[2:5]
    assert (page["total"], page["hasMore"]) == (8, True)
    last = listed(client, sort="created_at,title", top=3, skip=6)
    assert [r["title"] for r in last["records"]] == everything[6:]
    assert (last["total"], last["hasMore"]) == (8, False)
    exact = listed(client, sort="title", top=8)
    assert (len(exact["records"]), exact["total"], exact["hasMore"]) == (8, 8, False)
    beyond = listed(client, top=3, skip=50)
    assert (beyond["records"], beyond["total"], beyond["hasMore"]) == ([], 8, False)
    aliases = listed(client, sort="created_at,title", limit=2, offset=1)
    assert [r["title"] for r in aliases["records"]] == everything[1:3]
    body = listed(client, "post", sort="title", top=2, skip=1, filter={"status": "open"})
    assert ([r["title"] for r in body["records"]], body["total"], body["hasMore"]) == (
        ["Echo", "Golf"],
        3,
        False,
    )
    filtered = listed(client, top=1, filter=json.dumps({"status": "open"}))
    assert (filtered["total"], filtered["hasMore"]) == (3, True)


@pytest.mark.parametrize(
    "params", [{"top": -1}, {"top": "ten"}, {"skip": -5}, {"skip": "1.5"}, {"count": "maybe"}]
)
def test_bad_paging_parameters_are_400(client, params):
    response = client.get(DEALS, params)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_QUERY"
    assert response.json()["field"] == next(iter(params))


def test_count_false_leaves_out_the_total(client, deals):
    for body in (
        listed(client, count="false", top=3, sort="title"),
        listed(client, "post", count=False, top=3, sort="title"),
    ):
        assert set(body) == {"object", "records", "total", "hasMore"}
        assert (body["total"], body["hasMore"], len(body["records"])) == (None, True, 3)
    assert listed(client, count="true", top=3)["total"] == 8


# -- search, implicit equality, expand ------------------------------------------------------


def test_search_over_searchable_fields(client, deals):
    def found(text: str) -> list[str]:
        return sorted(r["title"] for r in listed(client, search=text, top=100)["records"])

    assert found("alpha") == ["Alpha", "Hotel"]  # title, and notes "ALPHA in caps"
    assert found("ECHO") == ["Echo"]
    assert found("50%") == ["Bravo"]  # a literal %, not a wildcard
    assert found("_") == ["Bravo", "Foxtrot"]
    assert found("nothing like it") == []
    both = listed(client, search="a", filter=json.dumps({"status": "open"}), top=100)
    assert sorted(r["title"] for r in both["records"]) == ["Alpha"]
    body = listed(client, "post", search="alpha", top=100)
    assert sorted(r["title"] for r in body["records"]) == ["Alpha", "Hotel"]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"status": "open"}, ["Alpha", "Echo", "Golf"]),
        ({"hot": "true"}, ["Alpha", "Charlie", "Golf"]),
        ({"hot": "false"}, ["Bravo", "Echo", "Foxtrot", "delta"]),
        ({"qty": "5"}, ["Bravo"]),
        ({"amount": "250.5"}, ["Bravo"]),
        ({"due": "2026-01-10"}, ["Alpha", "Echo"]),
        ({"tags": "red"}, ["Alpha", "Foxtrot", "Golf"]),
        ({"title": "delta"}, ["delta"]),
        ({"status": "open", "hot": "true"}, ["Alpha", "Golf"]),
    ],
)
def test_implicit_equality_parameters(client, deals, params, expected):
    assert sorted(r["title"] for r in listed(client, top=100, **params)["records"]) == expected


def test_implicit_equality_on_lookup_and_with_filter(client, deals, customers):
    body = listed(client, customer=customers["Globex"], top=100)
    assert sorted(r["title"] for r in body["records"]) == ["Charlie", "Foxtrot"]
    body = listed(client, status="won", filter=json.dumps({"qty": {"$gt": 0}}))
    assert [r["title"] for r in body["records"]] == ["Bravo"]
    response = client.get(DEALS, {"qty": "many"})
    assert response.status_code == 400


def test_expand_lookup(client, deals, customers):
    body = listed(client, expand="customer", sort="title", top=100)
    by_title = {r["title"]: r for r in body["records"]}
    acme = by_title["Alpha"]["customer"]
    assert acme == client.get(f"/api/v1/data/flt_customer/{customers['Acme']}").json()["record"]
    assert (acme["name"], acme["tier"]) == ("Acme", "gold")
    assert by_title["Golf"]["customer"] is None
    assert by_title["Echo"]["customer"]["name"] == "Initech"
    one = client.get(f"{DEALS}/{deals['Charlie']}", {"expand": "customer"}).json()["record"]
    assert one["customer"]["id"] == customers["Globex"]
    body = listed(client, "post", expand=["customer"], filter={"title": "Bravo"})
    assert body["records"][0]["customer"]["name"] == "Acme"
    plain = listed(client, filter=json.dumps({"title": "Bravo"}))
    assert plain["records"][0]["customer"] == customers["Acme"]
    for bad in ("title", "nope"):
        response = client.get(DEALS, {"expand": bad})
        assert (response.status_code, response.json()["code"]) == (400, "INVALID_FIELD")
