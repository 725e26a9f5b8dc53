"""Seed one server's database: `python -m bench.runner.seed runtime|drf|plain`.

Runs in its own process under that server's settings (DJANGO_SETTINGS_MODULE and the
data-dir / DATABASE_URL environment set by the runner) and prints one JSON line:
{"user_ids": {email: id}, "tokens": {email: raw} (baselines only), "seconds": {...}}.

runtime: `migrate`, `load_artifact bench/artifacts/task.json --project app --host
127.0.0.1 --approve`, `create_user` for each user (admin: --superuser, others:
--permission-set task_user), the rows inserted with one executemany per 1,000 into
the object's table, and tokens from POST /api/v1/auth/sign-in/email (Django's test
client, in process: the server is not started yet so its cold start stays cold).
baselines: `migrate`, users without passwords, `bulk_create` of the rows, and one
bearer token each for the admin and the first plain user.
"""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "bench" / "artifacts" / "task.json"
RUNTIME_TABLE = "app__app_task"
BATCH = 1000


def _timed(seconds: dict[str, float], label: str, started: float) -> float:
    now = time.perf_counter()
    seconds[label] = round(now - started, 3)
    return now


def seed_runtime() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from bench.runner.dataset import ADMIN_EMAIL, PASSWORD, PLAIN_EMAIL, USERS, tasks

    seconds: dict[str, float] = {}
    quiet = io.StringIO()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    started = _timed(seconds, "migrate", started)
    call_command("load_artifact", str(ARTIFACT), project="app", hosts=["127.0.0.1"],
                 approve=True, stdout=quiet)
    started = _timed(seconds, "load_artifact", started)
    # The users' passwords serve only the two sign-ins below: a fast hasher spares ~1 s of
    # PBKDF2 per user (bench/run --quick must stay under two minutes). The server keeps
    # the production hashers; nothing it measures checks a password.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast.enable()
    for email, admin in USERS:
        extra = ["--superuser"] if admin else ["--permission-set", "task_user"]
        call_command("create_user", email, "--password", PASSWORD, "--project", "app", *extra,
                     stdout=quiet)
    started = _timed(seconds, "create_user", started)
    emails = [email for email, _ in USERS]
    user_ids = dict(get_user_model().objects.filter(username__in=emails)
                    .values_list("username", "id"))
    owners = [user_ids[email] for email in emails]
    with connection.cursor() as cursor:
        present = {c.name for c in connection.introspection.get_table_description(
            cursor, RUNTIME_TABLE)}
        columns = ["id", "owner_id", "created_by", "created_at", "updated_by", "updated_at",
                   "title", "status", "priority", "due_date", "amount", "description", "done"]
        missing = sorted(set(columns) - present)
        if missing:
            raise SystemExit(f"{RUNTIME_TABLE} lacks columns {missing}; it has {sorted(present)}")
        ops = connection.ops
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names are constants)
            ops.quote_name(RUNTIME_TABLE), ", ".join(ops.quote_name(c) for c in columns),
            ", ".join(["%s"] * len(columns)))
        batch: list[tuple] = []
        with connection.constraint_checks_disabled():
            for row in tasks():
                owner = owners[row["owner"]]
                batch.append((
                    row["id"], owner, owner, ops.adapt_datetimefield_value(row["created_at"]),
                    owner, ops.adapt_datetimefield_value(row["updated_at"]), row["title"],
                    row["status"], row["priority"], ops.adapt_datefield_value(row["due_date"]),
                    ops.adapt_decimalfield_value(row["amount"], 18, 2), row["description"],
                    row["done"]))
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
    started = _timed(seconds, "rows", started)
    tokens = {email: _sign_in(email, PASSWORD) for email in (ADMIN_EMAIL, PLAIN_EMAIL)}
    fast.disable()
    _timed(seconds, "sign_in", started)
    return {"user_ids": user_ids, "tokens": tokens, "seconds": seconds}


def _sign_in(email: str, password: str) -> str:
    """A token from the runtime's own sign-in route, called in process (no server yet)."""
    from django.test import Client

    response = Client(HTTP_HOST="127.0.0.1").post(
        "/api/v1/auth/sign-in/email", {"email": email, "password": password},
        content_type="application/json")
    if response.status_code != 200:
        raise SystemExit(f"sign-in of {email} answered {response.status_code}: "
                         f"{response.content[:300]!r}")
    return response.json()["token"]


def seed_baseline() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from bench.runner.dataset import ADMIN_EMAIL, PLAIN_EMAIL, USERS, tasks
    from common.models import AuthToken, Task, hash_secret

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    started = _timed(seconds, "migrate", started)
    user_model = get_user_model()
    users = {}
    for email, admin in USERS:
        users[email] = user_model.objects.create_user(
            username=email, email=email, password=None, is_superuser=admin, is_staff=admin)
    owners = [users[email].pk for email, _ in USERS]

    def task(row: dict[str, Any]) -> Task:
        owner = owners[row.pop("owner")]
        return Task(owner_id=owner, created_by=owner, updated_by=owner, **row)

    with transaction.atomic():
        Task.objects.bulk_create((task(row) for row in tasks()), batch_size=BATCH)
    started = _timed(seconds, "rows", started)
    tokens = {}
    for email in (ADMIN_EMAIL, PLAIN_EMAIL):
        raw = AuthToken.generate()
        AuthToken.objects.create(key_hash=hash_secret(raw), user=users[email],
                                 expires_at=timezone.now() + timedelta(days=7))
        tokens[email] = raw
    _timed(seconds, "tokens", started)
    return {"user_ids": {e: u.pk for e, u in users.items()}, "tokens": tokens,
            "seconds": seconds}


def main() -> None:
    kind = sys.argv[1]
    sys.path.insert(0, str(ROOT))
    if kind != "runtime":
        sys.path.insert(0, str(ROOT / "bench" / "baselines"))
    import django

    django.setup()
    result = seed_runtime() if kind == "runtime" else seed_baseline()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
