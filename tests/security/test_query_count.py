"""No N+1: a plain user's list costs the same number of SQL queries at every page size.

The user is alice (fixtures/security): sec_deal is private, widened by two criteria
sharing rules, and its `margin` is hidden from her; sec_ticket carries an RLS `using`
for agents; sec_deal_note follows its deal (controlled_by_parent, a subquery). Each scope
compiles into the page's one SELECT; `total` needs one COUNT (the pages are smaller than
the scope); each expanded lookup costs one SELECT for the whole page. Host, kernel and
membership are warm (cached) after the first request, as in a running server.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.kernel.cache import kernels
from apps.projects import hosts
from apps.security.authentication import credentials
from tests.security.conftest import World, email

pytestmark = pytest.mark.django_db

PAGE_SIZES = (1, 10, 50, 200)
ROWS = 210  # more than the largest page: every page has more, so `total` is counted


@pytest.fixture(autouse=True)
def _warm_caches(settings):
    """Host routes and memberships stay cached for the whole test (a second by default)."""
    settings.OS_HOST_CACHE_TTL = 3600
    settings.OS_AUTH_CACHE_TTL = 3600
    hosts.invalidate()
    credentials.clear()
    yield
    hosts.invalidate()
    credentials.clear()


@pytest.fixture(autouse=True, scope="module")
def _drop_kernels_after_module():
    yield
    kernels.clear()


@pytest.fixture
def many_rows(secfix_world) -> World:
    """ROWS deals for alice (each on her account), ROWS notes on them, ROWS tickets for the
    agent; plus the world's rows of others, which every query must leave out."""
    world = secfix_world
    now = timezone.now()
    alice, agent = world.users["alice"].pk, world.users["agent"].pk
    deal = world.kernel.object("sec_deal").model
    deals = [
        deal(
            owner_id=alice,
            name=f"Deal {i:03}",
            account_id=world.ids["acc_a"],
            stage="new",
            region="us",
            amount=i,
            margin=0.1,
            created_at=now,
            updated_at=now,
        )  # fmt: skip
        for i in range(ROWS)
    ]
    deal._base_manager.bulk_create(deals)
    note = world.kernel.object("sec_deal_note").model
    note._base_manager.bulk_create(
        [note(deal_id=d.pk, body=f"Note {i:03}", created_at=now) for i, d in enumerate(deals)]
    )
    ticket = world.kernel.object("sec_ticket").model
    ticket._base_manager.bulk_create(
        [
            ticket(
                owner_id=agent,
                subject=f"Ticket {i:03}",
                assignee=email("agent"),
                priority=1,
                deal_id=deals[i].pk,
                created_at=now,
            )  # fmt: skip
            for i in range(ROWS)
        ]
    )
    return world


def queries_per_page(client, url: str, params: dict) -> dict[int, int]:
    client.get(url, {**params, "top": 1})  # warm: host route, kernel, membership
    counts = {}
    for top in PAGE_SIZES:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {**params, "top": top})
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["records"]) == top and body["hasMore"] is True
        counts[top] = len(captured.captured_queries)
    return counts


@pytest.mark.parametrize(
    "user,url,params,total,queries",
    [
        # private + sharing rules + hidden field: the page and its COUNT
        ("alice", "/api/v1/data/sec_deal", {}, ROWS + 1, 2),
        # ... with the account lookup expanded: one more SELECT for the whole page
        ("alice", "/api/v1/data/sec_deal", {"expand": "account"}, ROWS + 1, 3),
        # ... with a filter through the lookup (guarded by the account's scope) and a sort
        (
            "alice",
            "/api/v1/data/sec_deal",
            {"filter": '{"account.name": "Acct Acme"}', "sort": "-amount", "expand": "account"},
            ROWS + 1,
            3,
        ),
        # controlled_by_parent: the deal's scope as a subquery
        ("alice", "/api/v1/data/sec_deal_note", {"expand": "deal"}, ROWS + 1, 3),
        # RLS `using` for the agent's position; the deal lookup expanded
        ("agent", "/api/v1/data/sec_ticket", {"expand": "deal"}, ROWS + 1, 3),
    ],
)
def test_list_costs_the_same_queries_at_every_page_size(
    many_rows, user, url, params, total, queries
):
    client = many_rows.client(user)
    assert client.get(url, {**params, "top": 1}).json()["total"] == total
    assert queries_per_page(client, url, params) == dict.fromkeys(PAGE_SIZES, queries)


def test_the_rules_add_no_query_to_the_admins_list(many_rows):
    """The same list as the superuser (no scope at all) costs the same queries."""
    url = "/api/v1/data/sec_deal"
    admin = queries_per_page(many_rows.client("admin"), url, {"expand": "account"})
    alice = queries_per_page(many_rows.client("alice"), url, {"expand": "account"})
    assert admin == alice == dict.fromkeys(PAGE_SIZES, 3)


def test_hidden_fields_and_scope_hold_in_the_large_page(many_rows):
    body = (
        many_rows.client("alice")
        .get("/api/v1/data/sec_deal", {"top": 200, "expand": "account"})
        .json()
    )
    assert all("margin" not in r and "internal_code" not in r["account"] for r in body["records"])
    assert {r["owner_id"] for r in body["records"]} == {many_rows.users["alice"].pk}
