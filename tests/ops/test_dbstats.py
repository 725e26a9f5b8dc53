"""SQLite's planner statistics (apps.ops.dbstats): analyzed at server start and hourly, so
the list of a private object reads by its owner's index, not a guessed one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule

from apps.ops import tasks
from apps.ops.dbstats import refresh_statistics
from apps.ops.schedules import STATISTICS_SCHEDULE, STATISTICS_TASK

pytestmark = pytest.mark.django_db
STATUSES = ("open", "done", "in_progress")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")


def plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row[-1]) for row in cursor.fetchall())


@sqlite_only
def test_a_private_list_reads_by_its_owner_once_analyzed():
    # the shape the runtime gives a private object: owner, created_at and select indexes
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE dbstats_task (id varchar(64) NOT NULL PRIMARY KEY, owner_id bigint, "
            "created_by bigint, created_at datetime, updated_by bigint, updated_at datetime, "
            "title text, status text, priority integer, due_date date, amount decimal, "
            "description text, done bool)"
        )
        for column in ("owner_id", "created_at", "status"):
            cursor.execute(f"CREATE INDEX dbstats_task_{column} ON dbstats_task ({column})")
        cursor.executemany(  # 10 owners, 3 statuses: the owner is the selective one
            "INSERT INTO dbstats_task (id, owner_id, created_at, status, priority) "
            "VALUES (%s, %s, %s, %s, %s)",
            [
                (f"{n:032x}", n % 10, f"2026-01-01 00:00:{n % 60:02d}", STATUSES[n % 3], n % 5)
                for n in range(3000)
            ],
        )
    query = (
        "SELECT * FROM dbstats_task WHERE owner_id = %s AND status = %s "
        "ORDER BY priority DESC LIMIT 50"
    )
    assert "dbstats_task_status" in plan(query, [3, "open"])  # SQLite's guess, unanalyzed

    assert refresh_statistics() is True

    assert "dbstats_task_owner_id" in plan(query, [3, "open"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'dbstats_task' ORDER BY idx")
        assert [row[0] for row in cursor.fetchall()] == [
            "dbstats_task_created_at",
            "dbstats_task_owner_id",
            "dbstats_task_status",
            "sqlite_autoindex_dbstats_task_1",
        ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's autovacuum")
def test_postgresql_is_left_to_autovacuum():
    assert refresh_statistics() is False
    assert tasks.refresh_statistics() == {"analyzed": False}


def test_ensure_schedules_runs_the_statistics_hourly():
    out = StringIO()
    call_command("ensure_schedules", stdout=out)
    assert f"schedule {STATISTICS_SCHEDULE}: created" in out.getvalue().splitlines()
    (schedule,) = Schedule.objects.filter(name=STATISTICS_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        STATISTICS_TASK,
        Schedule.MINUTES,
        60,
        -1,
    )
    Schedule.objects.filter(pk=schedule.pk).update(minutes=5)
    out = StringIO()
    call_command("ensure_schedules", stdout=out)
    assert f"schedule {STATISTICS_SCHEDULE}: updated" in out.getvalue().splitlines()
    out = StringIO()
    call_command("ensure_schedules", stdout=out)
    assert f"schedule {STATISTICS_SCHEDULE}: unchanged" in out.getvalue().splitlines()
    assert Schedule.objects.get(name=STATISTICS_SCHEDULE).minutes == 60
    assert tasks.refresh_statistics() == {"analyzed": connection.vendor == "sqlite"}
