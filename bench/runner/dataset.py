"""The seed every server gets: 10 users (1 admin + 9 plain) and 10,000 identical tasks.

Rows are spread evenly over the 10 users (1,000 each, the admin included) and, within
each owner, evenly over the three statuses. Ids are deterministic 32-char hex strings
so every server serves the very same rows; owner ids are mapped per server.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

PASSWORD = "bench-password-1"
ADMIN_EMAIL = "admin@bench.test"
PLAIN_EMAIL = "user1@bench.test"
USERS = [(ADMIN_EMAIL, True)] + [(f"user{n}@bench.test", False) for n in range(1, 10)]
ROW_COUNT = 10_000
STATUSES = ("open", "in_progress", "done")
EPOCH = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
SEED = 17


def tasks(count: int = ROW_COUNT) -> Iterator[dict[str, Any]]:
    """Rows as column values; `owner` is an index into USERS."""
    rng = random.Random(SEED)
    for n in range(count):
        owner = n % len(USERS)
        status = STATUSES[(n // len(USERS)) % len(STATUSES)]
        created = EPOCH + datetime.timedelta(seconds=37 * n)
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            "owner": owner,
            "created_at": created,
            "updated_at": created,
            "title": f"Task {n}: {rng.choice(('call', 'write', 'review', 'ship'))} it",
            "status": status,
            "priority": rng.randint(1, 5),
            "due_date": (EPOCH + datetime.timedelta(days=n % 400)).date(),
            "amount": Decimal(rng.randint(0, 10_000_000)) / 100,
            "description": "Seeded task for the benchmark. " * rng.randint(0, 4) or None,
            "done": status == "done",
        }


def ids_by_owner(count: int = ROW_COUNT) -> dict[int, list[str]]:
    """Row ids per owner index, in seed order."""
    found: dict[int, list[str]] = {}
    for row in tasks(count):
        found.setdefault(row["owner"], []).append(row["id"])
    return found
