"""Fixtures of the security tests: the matrix artifact, its users and the rows they count.

`fixtures/security/objectstack.json` ("secfix", served at secfix.test) has one object per
sharing model, RLS `using`/`check` scoped to a position, criteria sharing rules shared
with a position and with a user, field rules, a default set and view/modify-all sets.
It seeds no rows: `secfix_world` creates exactly the rows the tests count (rolled back
after each test), with the owners the rules are about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from apps.kernel.cache import kernels
from apps.kernel.kernel import Kernel
from apps.security.principal import forget_memberships
from tests import factories

SECFIX = "secfix"
SECFIX_ARTIFACT = factories.REPO / "fixtures" / "security" / "objectstack.json"

# email -> (permission sets, positions). Every user also gets the default set sec_everyone.
SECFIX_USERS: dict[str, tuple[list[str], list[str]]] = {
    "alice": (["sec_member"], []),
    "bob": (["sec_member"], []),
    "carol": (["sec_member"], []),  # named by the sharing rule emea_deals_to_carol
    "manager": (["sec_member"], ["sales_manager"]),  # won_deals_to_managers
    "agent": (["sec_member"], ["support_agent"]),  # RLS ticket_own_rows, ticket_priority_cap
    "finance": (["sec_member", "sec_finance"], []),  # sees internal_code and margin
    "auditor": (["sec_auditor"], []),  # viewAllRecords on deals and the vault
    "supervisor": (["sec_supervisor"], []),  # modifyAllRecords on deals
    "outsider": ([], []),  # the default set only
    "guest": (["sec_guest"], []),  # may create tickets, read nothing but the default
}


def email(user: str) -> str:
    return f"{user}@{SECFIX}.test"


@pytest.fixture(autouse=True)
def _forget_memberships():
    """Memberships are cached per (project, user id) for OS_AUTH_CACHE_TTL; on SQLite a
    rolled-back user's id comes back in the next test with other permission sets."""
    forget_memberships()
    yield
    forget_memberships()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """A dozen users per test: PBKDF2 would cost seconds. Hashes made before (the
    session's admins) still verify through the second hasher."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(scope="session")
def secfix_session(publish_session):
    return publish_session(SECFIX, json.loads(SECFIX_ARTIFACT.read_text()))


@pytest.fixture
def secfix(secfix_session, db):
    secfix_session.refresh_from_db()
    return secfix_session


def secfix_kernel(project) -> Kernel:
    return kernels.get_version(project.name, project.published_version_id)


@dataclass
class World:
    """The rows of one test, by key, and the users by short name."""

    project: Any
    kernel: Kernel
    users: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)  # row key -> object name
    admin: Any = None

    def client(self, user: str):
        return factories.api_client(
            self.project, self.admin if user == "admin" else self.users[user]
        )

    def create(self, object_name: str, key: str | None = None, owner: str | None = None, **values):
        runtime = self.kernel.object(object_name)
        data = {runtime.attnames.get(name, name): value for name, value in values.items()}
        owner_id = self.users[owner].pk if owner else None
        row = runtime.model._base_manager.create(owner_id=owner_id, created_by=owner_id, **data)
        if key is not None:
            self.ids[key] = row.pk
            self.objects[key] = object_name
        return row.pk

    def keys_of(self, object_name: str) -> list[str]:
        return [key for key, name in self.objects.items() if name == object_name]


@pytest.fixture
def secfix_users(secfix) -> dict[str, Any]:
    return {
        name: factories.make_user(email(name), secfix, permission_sets=sets, positions=positions)
        for name, (sets, positions) in SECFIX_USERS.items()
    }


@pytest.fixture
def secfix_world(secfix, secfix_users) -> World:
    """Accounts, deals, notes, tickets and a vault row, owned as the matrix expects.

    Every row's searchable text holds its object's token (Acct, Deal, Note, Ticket,
    Vault), so a search for the token finds every row the user may read."""
    from django.utils import timezone

    world = World(secfix, secfix_kernel(secfix), secfix_users)
    world.admin = factories.make_user(f"admin@{SECFIX}.test", secfix, superuser=True)
    now = timezone.now()
    stamp = {"created_at": now, "updated_at": now}
    acc = "sec_account"
    world.create(acc, "acc_a", "alice", name="Acct Acme", industry="retail",
                 revenue=Decimal("1000.00"), internal_code="IC-ACME", **stamp)  # fmt: skip
    world.create(acc, "acc_b", "bob", name="Acct Bobco", industry="mining",
                 revenue=Decimal("2000.00"), internal_code="IC-BOB", **stamp)  # fmt: skip
    world.create(acc, "acc_f", "finance", name="Acct Fincorp", industry="banking",
                 revenue=Decimal("3000.00"), internal_code="IC-FIN", **stamp)  # fmt: skip
    deal = "sec_deal"
    world.create(deal, "deal_a", "alice", name="Deal Alpha", account=world.ids["acc_a"],
                 stage="new", region="us", amount=10, margin=0.5, **stamp)  # fmt: skip
    world.create(deal, "deal_b", "bob", name="Deal Bravo", account=world.ids["acc_b"],
                 stage="new", region="us", amount=20, margin=0.25, **stamp)  # fmt: skip
    world.create(deal, "deal_won", "bob", name="Deal Won", stage="won", region="us",
                 amount=30, margin=0.1, **stamp)  # fmt: skip
    world.create(deal, "deal_emea", "bob", name="Deal Emea", stage="new", region="emea",
                 amount=40, margin=0.2, **stamp)  # fmt: skip
    note = "sec_deal_note"
    for suffix in ("a", "b", "won", "emea"):
        world.create(note, f"note_{suffix}", None, deal=world.ids[f"deal_{suffix}"],
                     body=f"Note on {suffix}", **stamp)  # fmt: skip
    world.create("sec_vault", "vault", None, label="Vault crown jewels", **stamp)
    ticket = "sec_ticket"
    world.create(ticket, "t_agent", "alice", subject="Ticket printer", assignee=email("agent"),
                 priority=1, deal=world.ids["deal_b"], vault=world.ids["vault"], **stamp)  # fmt: skip
    world.create(ticket, "t_bob", "alice", subject="Ticket laptop", assignee=email("bob"),
                 priority=2, **stamp)  # fmt: skip
    return world
