"""compile_filter against a real database: every operator, both forms, NULLs, errors."""

from __future__ import annotations

import pytest

from apps.security.rules import InvalidFilter, UnknownField, compile_filter
from apps.security.rules.filters import MAX_CONDITIONS, MAX_DEPTH

INJECTION = "'; DROP TABLE x; --"
ALL_TITLES = frozenset(
    {"alpha", "beta", "gamma", "delta", "Epsilon", "100% pure", "under_score", "ALPHA"}
    | {INJECTION, "eta*?[x]"}
)
OPEN = {"alpha", "gamma", "under_score", "'; DROP TABLE x; --", "eta*?[x]"}
NOT_OPEN = ALL_TITLES - OPEN  # includes "delta" (status NULL)
NO_LOWER_A = {"Epsilon", "100% pure", "under_score", "ALPHA", INJECTION}
NOT_RED = ALL_TITLES - {"alpha", "Epsilon"}

MONGO_CASES = [
    ({"status": "open"}, OPEN),
    ({"status": {"$eq": "open"}}, OPEN),
    ({"status": {"$ne": "open"}}, NOT_OPEN),
    ({"status": None}, {"delta"}),
    ({"status": {"$ne": None}}, ALL_TITLES - {"delta"}),
    ({"amount": {"$gt": 100}}, {"beta", "Epsilon"}),
    ({"amount": {"$gte": 100}}, {"alpha", "beta", "Epsilon", "ALPHA"}),
    ({"amount": {"$lt": 10}}, {"under_score", INJECTION}),
    ({"amount": {"$lte": "10"}}, {"under_score", INJECTION, "100% pure"}),
    ({"amount": {"$gt": 10, "$lt": 100}}, {"gamma", "eta*?[x]"}),
    ({"amount": {"$between": [50, 100]}}, {"alpha", "gamma", "ALPHA", "eta*?[x]"}),
    ({"score": {"$lt": 0}}, {"under_score"}),
    ({"status": {"$in": ["open", "pending"]}}, OPEN | {"Epsilon"}),
    ({"status": {"$nin": ["open", "pending"]}}, {"beta", "delta", "100% pure", "ALPHA"}),
    ({"status": {"$in": []}}, set()),
    ({"status": {"$nin": []}}, ALL_TITLES),
    ({"status": {"$in": [None, "pending"]}}, {"delta", "Epsilon"}),
    ({"status": {"$nin": [None, "open"]}}, {"beta", "Epsilon", "100% pure", "ALPHA"}),
    ({"title": {"$contains": "pha"}}, {"alpha"}),
    ({"title": {"$icontains": "PHA"}}, {"alpha", "ALPHA"}),
    ({"title": {"$contains": "%"}}, {"100% pure"}),
    ({"title": {"$contains": "_"}}, {"under_score"}),
    ({"title": {"$contains": "*?["}}, {"eta*?[x]"}),
    ({"title": {"$contains": "'; DROP"}}, {INJECTION}),
    ({"title": {"$notContains": "a"}}, NO_LOWER_A),
    ({"status": {"$notContains": "pen"}}, {"beta", "delta", "100% pure", "ALPHA"}),
    ({"title": {"$startsWith": "a"}}, {"alpha"}),
    ({"title": {"$startsWith": "A"}}, {"ALPHA"}),
    ({"title": {"$endsWith": "a"}}, {"alpha", "beta", "gamma", "delta"}),
    ({"title": {"$endsWith": "[x]"}}, {"eta*?[x]"}),
    ({"title": {"$like": "a%"}}, {"alpha"}),
    ({"title": {"$like": "ALPHA"}}, {"ALPHA"}),
    ({"title": {"$like": "_eta"}}, {"beta"}),
    ({"title": {"$like": "%\\%%"}}, {"100% pure"}),
    ({"title": {"$like": "%\\_%"}}, {"under_score"}),
    ({"title": {"$like": "%*%"}}, {"eta*?[x]"}),
    ({"title": {"$like": "%[x]"}}, {"eta*?[x]"}),
    ({"title": {"$ilike": "a%"}}, {"alpha", "ALPHA"}),
    ({"due": {"$null": True}}, {"delta", "ALPHA"}),
    ({"due": {"$null": False}}, ALL_TITLES - {"delta", "ALPHA"}),
    ({"due": {"$exists": False}}, {"delta", "ALPHA"}),
    ({"due": {"$exists": True}}, ALL_TITLES - {"delta", "ALPHA"}),
    ({"due": {"$gte": "2024-02-01"}}, {"beta", "gamma", "under_score", INJECTION, "eta*?[x]"}),
    ({"due": "2024-01-10"}, {"alpha", "100% pure"}),
    ({"tags": {"$contains": "red"}}, {"alpha", "Epsilon"}),
    ({"tags": {"$notContains": "red"}}, NOT_RED),
    ({"tags": {"$contains": "1"}}, {"under_score"}),
    ({"tags": {"$contains": 1}}, {"ALPHA"}),
    ({"tags": {"$contains": "x%"}}, {"100% pure"}),
    ({"tags": {"$contains": INJECTION}}, set()),
    ({"tags": {"$null": True}}, {"delta", "gamma"}),
    ({"tags": {"$exists": True}}, ALL_TITLES - {"delta", "gamma"}),
    ({"$not": {"tags": {"$null": True}}}, ALL_TITLES - {"delta", "gamma"}),
    ({"tags": None}, {"delta"}),
    ({"tags": "red"}, {"alpha", "Epsilon"}),
    ({"tags": ["red", "blue"]}, {"alpha"}),
    ({"tags": {"$eq": []}}, {"gamma"}),
    ({"tags": {"$in": ["green", "blue"]}}, {"alpha", "beta", "eta*?[x]"}),
    ({"tags": {"$in": []}}, set()),
    ({"tags": {"$nin": ["red", "blue"]}}, ALL_TITLES - {"alpha", "Epsilon", "eta*?[x]"}),
    ({"tags": {"$nin": []}}, ALL_TITLES),
    ({"done": True}, {"alpha", "Epsilon", INJECTION, "eta*?[x]"}),
    ({"done": {"$ne": True}}, {"beta", "gamma", "delta", "100% pure", "under_score", "ALPHA"}),
    ({"done": None}, {"gamma", "delta", "under_score", "ALPHA"}),
    ({"parent": 1}, {"beta", "gamma"}),
    ({"parent.title": "alpha"}, {"beta", "gamma"}),
    ({"parent.status": {"$ne": "open"}}, ALL_TITLES - {"beta", "gamma"}),
    ({"parent.status": None}, ALL_TITLES - {"beta", "gamma", "Epsilon"}),
    (
        {"$or": [{"status": "pending"}, {"amount": {"$lt": 10}}]},
        {"Epsilon", "under_score", INJECTION},
    ),
    (
        {
            "$and": [
                {"status": "open"},
                {"$or": [{"amount": {"$gte": 75}}, {"tags": {"$contains": "blue"}}]},
            ]
        },
        {"alpha", "eta*?[x]"},
    ),
    ({"status": "open", "amount": {"$gte": 75}}, {"alpha", "eta*?[x]"}),
    ({"$not": {"status": "open"}}, NOT_OPEN),
    ({"amount": {"$not": {"$gt": 100}}}, ALL_TITLES - {"beta", "Epsilon"}),
    ({"$not": {"title": {"$contains": "a"}}}, NO_LOWER_A),
    ({"$not": {"tags": {"$contains": "red"}}}, NOT_RED),
    ({"$not": {"status": {"$nin": []}}}, set()),
    ({"$not": {"status": {"$in": []}}}, ALL_TITLES),
    ({"$not": {"$or": [{"status": "open"}, {"status": None}]}}, NOT_OPEN - {"delta"}),
    ({"$and": []}, ALL_TITLES),
    ({"$or": []}, set()),
    ({"title": INJECTION}, {INJECTION}),
    ({"title": {"$like": "'; DROP%"}}, {INJECTION}),
    ({"status": {"$in": [INJECTION, "x' OR '1'='1"]}}, set()),
    ({}, ALL_TITLES),
    (None, ALL_TITLES),
]

ARRAY_CASES = [
    (["status", "=", "open"], OPEN),
    (["status", "==", "open"], OPEN),
    (["status", "!=", "open"], NOT_OPEN),
    (["status", "<>", "open"], NOT_OPEN),
    (["status", "$ne", "open"], NOT_OPEN),
    (["amount", ">", 100], {"beta", "Epsilon"}),
    (["amount", ">=", 100], {"alpha", "beta", "Epsilon", "ALPHA"}),
    (["amount", "<", 10], {"under_score", INJECTION}),
    (["amount", "<=", 10], {"under_score", INJECTION, "100% pure"}),
    (["status", "in", ["open", "pending"]], OPEN | {"Epsilon"}),
    (["status", "IN", ["open", "pending"]], OPEN | {"Epsilon"}),
    (["status", "not in", ["open", "pending"]], {"beta", "delta", "100% pure", "ALPHA"}),
    (["status", "nin", ["open", "pending"]], {"beta", "delta", "100% pure", "ALPHA"}),
    (["amount", "between", [50, 100]], {"alpha", "gamma", "ALPHA", "eta*?[x]"}),
    (["title", "contains", "%"], {"100% pure"}),
    (["title", "notcontains", "a"], NO_LOWER_A),
    (["title", "not contains", "a"], NO_LOWER_A),
    (["title", "icontains", "PHA"], {"alpha", "ALPHA"}),
    (["title", "startswith", "a"], {"alpha"}),
    (["title", "$startsWith", "A"], {"ALPHA"}),
    (["title", "endswith", "a"], {"alpha", "beta", "gamma", "delta"}),
    (["title", "like", "a%"], {"alpha"}),
    (["title", "ilike", "a%"], {"alpha", "ALPHA"}),
    (["status", "is null"], {"delta"}),
    (["status", "is not null"], ALL_TITLES - {"delta"}),
    (["status", "null", True], {"delta"}),
    (["due", "exists", False], {"delta", "ALPHA"}),
    (["tags", "contains", "red"], {"alpha", "Epsilon"}),
    (["parent.title", "=", "alpha"], {"beta", "gamma"}),
    (["and", ["amount", ">", 10], ["amount", "<", 100]], {"gamma", "eta*?[x]"}),
    (["AND", ["status", "=", "open"], ["or", ["amount", ">=", 75], ["tags", "contains", "blue"]]],
     {"alpha", "eta*?[x]"}),
    (["or", ["status", "=", "pending"], ["amount", "<", 10]], {"Epsilon", "under_score", INJECTION}),
    (["not", ["status", "=", "open"]], NOT_OPEN),
    (["not", ["or", ["status", "=", "open"], ["status", "is null"]]], NOT_OPEN - {"delta"}),
    ([["status", "=", "open"], ["amount", ">=", 75]], {"alpha", "eta*?[x]"}),
    (["and", {"status": "open"}, ["amount", ">=", 75]], {"alpha", "eta*?[x]"}),
    (["and"], ALL_TITLES),
    (["or"], set()),
    ([], ALL_TITLES),
    (["title", "=", INJECTION], {INJECTION}),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), MONGO_CASES, ids=repr)
def test_mongo_form(spec, expected, match, resolver):
    assert match(compile_filter(spec, resolver)) == expected


@pytest.mark.parametrize(("spec", "expected"), ARRAY_CASES, ids=repr)
def test_array_form(spec, expected, match, resolver):
    assert match(compile_filter(spec, resolver)) == expected


def test_injection_values_leave_the_table_alone(item_model, match, resolver):
    spec = {"$or": [{"title": "x'); DROP TABLE rulestest_item; --"}, {"title": {"$like": "%'"}}]}
    assert match(compile_filter(spec, resolver)) == set()
    assert item_model.objects.count() == 10


@pytest.mark.parametrize(
    "name",
    ["nope", "title; DROP TABLE x", 'title" OR 1=1 --', "parent.parent.title", "parent__title"],
)
def test_unknown_field_is_rejected_by_the_resolver(name, resolver):
    with pytest.raises(UnknownField) as raised:
        compile_filter({name: 1}, resolver)
    assert raised.value.field == name
    with pytest.raises(UnknownField):
        compile_filter([name, "=", 1], resolver)


def test_operator_not_supported_for_type(resolver):
    with pytest.raises(InvalidFilter) as raised:
        compile_filter({"status": {"$gt": "a"}}, resolver)
    assert raised.value.field == "status"
    assert raised.value.message == (
        "operator '$gt' is not supported for field 'status' of type 'select'"
    )
    with pytest.raises(InvalidFilter, match="'\\$icontains' is not supported for field 'tags'"):
        compile_filter(["tags", "icontains", "r"], resolver)


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("status", None, "must be an object or an array"),
        (42, None, "must be an object or an array"),
        ({"$and": {"status": "open"}}, None, "'$and' needs a list"),
        ({"$or": "x"}, None, "'$or' needs a list"),
        ({"$not": "x"}, None, "'$not' needs a filter"),
        ({"$nor": []}, None, "unknown logical operator '$nor'"),
        ({"$and": ["x"]}, None, "must be an object or an array"),
        ({"status": {"$foo": 1}}, "status", "unknown operator '$foo'"),
        ({"status": {"$eq": "open", "plain": 1}}, "status", "mixes operators"),
        ({"status": {"$in": "open"}}, "status", "needs a list"),
        ({"amount": {"$between": [1]}}, "amount", "needs [low, high]"),
        ({"amount": {"$between": [1, None]}}, "amount", "needs [low, high]"),
        ({"amount": {"$gt": None}}, "amount", "cannot compare field 'amount' with null"),
        ({"amount": {"$gt": "abc"}}, "amount", "'amount' needs a number"),
        ({"amount": {"$in": [1, "abc"]}}, "amount", "'amount' needs a number"),
        ({"done": {"$eq": "yes"}}, "done", "'done' needs true or false"),
        ({"status": {"$null": "yes"}}, "status", "expected true or false, got 'yes'"),
        ({"tags": {"$gt": 1}}, "tags", "operator '$gt' is not supported for field 'tags'"),
        ({"tags": {"$in": [None]}}, "tags", "elements are text or numbers"),
        ({"tags": {"$contains": True}}, "tags", "elements are text or numbers"),
        ({"tags": {"$contains": ["a"]}}, "tags", "needs a single value"),
        ({"title": {"$contains": 5}}, "title", "needs a string"),
        ({"amount": {"$not": 5}}, "amount", "'$not' on field 'amount' needs operators"),
        (["status", "~", "x"], "status", "unknown operator '~'"),
        (["status"], "status", "must be [field, operator, value]"),
        (["status", "=", "a", "b"], "status", "must be [field, operator, value]"),
        (["status", "="], "status", "needs a value"),
        ([1, "=", 2], None, "must start with a field name"),
        (["not", ["status", "=", "a"], ["status", "=", "b"]], None, "exactly one filter"),
        (["and", "x", "y"], "and", "unknown operator 'x'"),
    ],
    ids=repr,
)
def test_bad_shapes(spec, field, message, resolver):
    with pytest.raises(InvalidFilter) as raised:
        compile_filter(spec, resolver)
    assert raised.value.field == field
    assert message in raised.value.message


def _nested(depth: int) -> dict:
    spec: dict = {"status": "open"}
    for _ in range(depth - 1):
        spec = {"$and": [spec]}
    return spec


def test_depth_limit(match, resolver):
    assert match(compile_filter(_nested(MAX_DEPTH), resolver)) == OPEN
    with pytest.raises(InvalidFilter, match="nested deeper than 16"):
        compile_filter(_nested(MAX_DEPTH + 1), resolver)
    deep_array: list = ["status", "=", "open"]
    for _ in range(MAX_DEPTH):
        deep_array = ["not", deep_array]
    with pytest.raises(InvalidFilter, match="nested deeper"):
        compile_filter(deep_array, resolver)


def test_condition_limit(match, resolver):
    allowed = {"$or": [{"amount": index} for index in range(MAX_CONDITIONS)]}
    assert match(compile_filter(allowed, resolver)) == {
        "under_score",
        INJECTION,
        "100% pure",
        "gamma",
        "eta*?[x]",
        "alpha",
        "ALPHA",
    }
    too_many = {"$or": [{"amount": index} for index in range(MAX_CONDITIONS + 1)]}
    with pytest.raises(InvalidFilter, match="more than 200 conditions"):
        compile_filter(too_many, resolver)


def test_sql_is_parameterised(item_model, resolver):
    q = compile_filter({"title": {"$like": INJECTION}, "tags": {"$contains": INJECTION}}, resolver)
    sql, params = item_model.objects.filter(q).query.sql_with_params()
    assert "DROP" not in sql
    assert any("DROP" in str(param) for param in params)
