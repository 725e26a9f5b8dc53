"""CelProgram.to_q against a real database, and agreement with evaluate() row by row."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ROWS, python_row

from apps.security.rules import (
    MATCH_NOTHING,
    CelError,
    InvalidFilter,
    RuleError,
    UnknownField,
    cel_to_q_or_nothing,
    compile_cel,
    frozen_now,
)

INJECTION = "'; DROP TABLE x; --"
ALL_TITLES = frozenset(row["title"] for row in ROWS)
OPEN = {"alpha", "gamma", "under_score", INJECTION, "eta*?[x]"}
NOW = dt.datetime(2024, 3, 31, 15, 30, tzinfo=dt.UTC)
VARIABLES = {
    "current_user": {"email": "ada@example.com", "status": "closed", "name": "alpha"},
    "os": {"user": {"id": 1}},
    "user": {"positions": ["sales"]},
}

CASES = [
    ("record.status == 'open'", OPEN),
    ('"open" == record.status', OPEN),
    ("record.status != 'open'", ALL_TITLES - OPEN),
    ("!(record.status == 'open')", ALL_TITLES - OPEN),
    ("record.status == null", {"delta"}),
    ("null != record.status", ALL_TITLES - {"delta"}),
    ("record.amount > 100", {"beta", "Epsilon"}),
    ("100 < record.amount", {"beta", "Epsilon"}),
    ("record.amount >= 100.0", {"alpha", "beta", "Epsilon", "ALPHA"}),
    ("!(record.amount > 100)", ALL_TITLES - {"beta", "Epsilon", "delta"}),
    ("record.amount <= 10 && record.amount > 0", {"100% pure", INJECTION}),
    ("record.amount >= 100 && record.status == 'open'", {"alpha"}),
    ("record.status == 'pending' || record.amount < 10", {"Epsilon", "under_score", INJECTION}),
    (
        "!(record.status == 'pending' || record.amount < 10)",
        {"alpha", "beta", "gamma", "100% pure", "ALPHA", "eta*?[x]"},
    ),
    ("has(record.status)", ALL_TITLES),
    ("!has(record.status)", set()),
    ("has(record.parent.title)", {"beta", "gamma", "Epsilon", "ALPHA"}),
    ("!has(record.parent.title)", ALL_TITLES - {"beta", "gamma", "Epsilon", "ALPHA"}),
    ("has(record.status) && record.status != 'open'", ALL_TITLES - OPEN),
    ("record.status in ['open', 'pending']", OPEN | {"Epsilon"}),
    ("!(record.status in ['open', 'pending'])", {"beta", "delta", "100% pure", "ALPHA"}),
    ("record.status in []", set()),
    ("record.status in [null, 'pending']", {"delta", "Epsilon"}),
    ("'red' in record.tags", {"alpha", "Epsilon"}),
    ("!('red' in record.tags)", ALL_TITLES - {"alpha", "Epsilon", "delta"}),
    ("record.tags.contains('blue')", {"alpha", "eta*?[x]"}),
    ("record.title.startsWith('a')", {"alpha"}),
    ("record.title.endsWith('a')", {"alpha", "beta", "gamma", "delta"}),
    ("record.title.contains('%')", {"100% pure"}),
    ("'_' in record.title", {"under_score"}),
    ("!record.status.startsWith('o')", {"beta", "Epsilon", "100% pure", "ALPHA"}),
    ("record.done", {"alpha", "Epsilon", INJECTION, "eta*?[x]"}),
    ("!record.done", {"beta", "100% pure"}),
    ("record.done == true", {"alpha", "Epsilon", INJECTION, "eta*?[x]"}),
    ("record.done != true", {"beta", "gamma", "delta", "100% pure", "under_score", "ALPHA"}),
    ("has(record.done) && record.done != null && !(record.done)", {"beta", "100% pure"}),
    ("true", ALL_TITLES),
    ("false", set()),
    ("!true", set()),
    ("1 == 1 && record.status == 'open'", OPEN),
    ("1 == 2 || record.status == 'open'", OPEN),
    ("record.status == current_user.status", {"beta", "100% pure", "ALPHA"}),
    ("record.parent == os.user.id", {"beta", "gamma"}),
    ("record.parent.title == current_user.name", {"beta", "gamma"}),
    ("'admin' in user.positions ? true : record.status == 'open'", OPEN),
    ("'sales' in user.positions ? true : record.status == 'open'", ALL_TITLES),
    (
        "record.amount > 100 ? record.status == 'closed' : record.status == 'open'",
        {"beta", "alpha", "gamma", "under_score", INJECTION, "eta*?[x]"},
    ),
    ("record.due < daysAgo(30)", {"alpha", "beta", "Epsilon", "100% pure", "eta*?[x]"}),
    ("record.due >= today()", {"under_score", INJECTION}),
    ("record.due == '2024-01-10'", {"alpha", "100% pure"}),
    ("record.due != null && record.due < date('2024-01-01')", {"Epsilon"}),
    ("status == 'open'", OPEN),
    ("title == current_user.name", {"alpha"}),
    ("record.amount > record.parent.amount", {"beta", "Epsilon"}),
    ("record.status == record.parent.status", {"gamma", "delta"}),
    ("record.status != record.parent.status", ALL_TITLES - {"gamma", "delta"}),
    ("has(record.tags.k)", {INJECTION}),
    ("has(record.tags.n.m)", {INJECTION}),
    ("has(record.tags.red)", set()),
    ("has(record.tags.n.zz)", set()),
    ("!has(record.tags.k)", ALL_TITLES - {INJECTION}),
    ("record.due < now()", {"alpha", "beta", "gamma", "Epsilon", "100% pure", "eta*?[x]"}),
    ("record.due > now()", {"under_score", INJECTION}),
    ("record.due <= timestamp('2024-01-10T00:00:00Z')", {"alpha", "Epsilon", "100% pure"}),
    ("record.due >= timestamp('2024-03-15T00:00:01Z')", {"under_score", INJECTION}),
    ("record.due == timestamp('2024-01-10T00:00:00Z')", {"alpha", "100% pure"}),
    ("record.due == timestamp('2024-01-10T10:00:00Z')", set()),
    ("record.due != timestamp('2024-01-10T10:00:00Z')", ALL_TITLES),
    ("record.tags == 'red'", set()),
    ("record.tags != 'red'", ALL_TITLES),
    ("record.tags == ['red', 'blue']", {"alpha"}),
    ("record.tags == []", {"gamma"}),
    ("record.tags == null", {"delta"}),
    ('record.title == "\'; DROP TABLE x; --"', {INJECTION}),
    ('record.title.startsWith("\'; DROP")', {INJECTION}),
]


def _matches_by_evaluation(source: str) -> set[str]:
    """Rows for which evaluate() over the full row is true (errors count as false)."""
    program = compile_cel(source)
    matched = set()
    for row in ROWS:
        try:
            if program.evaluate({"record": python_row(row), **VARIABLES}) is True:
                matched.add(row["title"])
        except CelError:
            pass
    return matched


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[case[0] for case in CASES])
def test_to_q(source, expected, match, resolver):
    with frozen_now(NOW):
        q = compile_cel(source).to_q(resolver, VARIABLES)
        assert match(q) == expected


SAME_AS_EVALUATE = [
    source
    for source, _ in CASES
    if "parent." not in source and not source.startswith(("status", "title"))
]


@pytest.mark.parametrize("source", SAME_AS_EVALUATE)
def test_to_q_agrees_with_evaluate(source, match, resolver):
    """The row filter selects exactly the rows for which evaluate() is true."""
    with frozen_now(NOW):
        assert match(compile_cel(source).to_q(resolver, VARIABLES)) == _matches_by_evaluation(
            source
        )


NOT_COMPILABLE = [
    ("record.amount * 2 > 100", CelError, "cannot be compiled to a row filter"),
    ("size(record.title) > 3", CelError, "cannot be compiled to a row filter"),
    ("record.title.size() > 3", CelError, "cannot be compiled to a row filter"),
    ("record.tags.size() > 0", CelError, "cannot be compiled to a row filter"),
    ("record.title.matches('a.*')", CelError, "cannot be compiled to a row filter"),
    ("record.status == 'a' + record.title", CelError, "cannot be compiled to a row filter"),
    ("record.tags[0] == 'red'", CelError, "cannot be compiled to a row filter"),
    ("record.amount > null", CelError, "compares with null"),
    ("record.status in record.tags", CelError, "cannot be compiled to a row filter"),
    ("record.status in 'open'", CelError, "needs a list on the right"),
    ("null in record.tags", CelError, "contains null"),
    ("record", CelError, "is the whole record"),
    ("record.amount + 1", CelError, "cannot be compiled to a row filter"),
    ("1 + 1", CelError, "is not a boolean condition"),
    ("current_user.missing == record.status", CelError, "is not a known variable"),
    ("nobody.id == record.status", UnknownField, "unknown field 'nobody.id'"),
    ("record.nope == 1", UnknownField, "unknown field 'nope'"),
    ("has(record.nope)", UnknownField, "unknown field 'nope'"),
    ("record.status > 'a'", InvalidFilter, "'$gt' is not supported for field 'status'"),
    ("record.amount == 'abc'", InvalidFilter, "'amount' needs a number"),
    ("record.status", InvalidFilter, "'status' needs text"),
    ("record.amount > 1 / 0", CelError, "division by zero"),
]


@pytest.mark.parametrize(("source", "error", "message"), NOT_COMPILABLE, ids=repr)
def test_not_compilable(source, error, message, match, resolver):
    with pytest.raises(error) as raised:
        compile_cel(source).to_q(resolver, VARIABLES, bare_fields=source.startswith("nobody"))
    assert message in str(raised.value)
    q, failure = cel_to_q_or_nothing(source, resolver, VARIABLES)
    assert isinstance(failure, CelError) and isinstance(failure, RuleError)
    assert q == MATCH_NOTHING
    assert match(q) == set()


def test_bare_fields_can_be_disabled(resolver):
    with pytest.raises(CelError, match="'status' is not a known variable"):
        compile_cel("status == 'open'").to_q(resolver, VARIABLES, bare_fields=False)


def test_cel_to_q_or_nothing_success(match, resolver):
    q, failure = cel_to_q_or_nothing("record.status == 'open'", resolver, VARIABLES)
    assert failure is None
    assert match(q) == OPEN


def test_syntax_error_fails_closed(match, resolver):
    q, failure = cel_to_q_or_nothing("record.status ==", resolver, {})
    assert isinstance(failure, CelError)
    assert "syntax error" in failure.message
    assert match(q) == set()


def test_missing_variables_fail_closed(match, resolver):
    q, failure = cel_to_q_or_nothing("record.status == current_user.status", resolver, {})
    assert failure is not None
    assert match(q) == set()


def test_null_variable_means_is_null(match, resolver):
    q = compile_cel("record.status == current_user.status").to_q(
        resolver, {"current_user": {"status": None}}
    )
    assert match(q) == {"delta"}
