"""The django-q2 schedules this instance wants, created or updated idempotently.

`OS_BACKUP_SCHEDULE` (a cron expression in UTC, e.g. `0 3 * * *`) makes one CRON schedule
named `objectos.backup` running apps.ops.tasks.scheduled_backup; unset, the schedule is
removed. `manage.py ensure_schedules` runs this before the worker starts (bin/serve).
The event outbox retry (`objectos.outbox`, apps.kernel.tasks.deliver_pending_events)
and the webhook deliveries (`objectos.webhooks`) run every minute, the planner statistics
of an SQLite database (`objectos.dbstats`, apps.ops.dbstats) every hour, always.
"""

from __future__ import annotations

from datetime import datetime

from croniter import croniter
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from apps.ops.exceptions import OpsError

BACKUP_SCHEDULE = "objectos.backup"
BACKUP_TASK = "apps.ops.tasks.scheduled_backup"
OUTBOX_SCHEDULE = "objectos.outbox"
OUTBOX_TASK = "apps.kernel.tasks.deliver_pending_events"


def next_run(expression: str, after: datetime | None = None) -> datetime:
    return croniter(expression, after or timezone.now()).get_next(datetime)


def ensure_backup_schedule(expression: str | None = None) -> str:
    """Make the backup schedule match `expression` (OS_BACKUP_SCHEDULE); returns what was
    done: created, updated, unchanged, removed or absent."""
    wanted = (settings.OS_BACKUP_SCHEDULE if expression is None else expression).strip()
    with transaction.atomic():
        existing = list(Schedule.objects.filter(name=BACKUP_SCHEDULE).order_by("pk"))
        if not wanted:
            for schedule in existing:
                schedule.delete()
            return "removed" if existing else "absent"
        if not croniter.is_valid(wanted):
            raise OpsError(f"OS_BACKUP_SCHEDULE={wanted!r} is not a cron expression")
        for duplicate in existing[1:]:
            duplicate.delete()
        schedule = existing[0] if existing else None
        if (
            schedule is not None
            and schedule.cron == wanted
            and schedule.func == BACKUP_TASK
            and schedule.schedule_type == Schedule.CRON
            and schedule.repeats == -1
        ):
            return "unchanged"
        fields = {
            "func": BACKUP_TASK,
            "schedule_type": Schedule.CRON,
            "cron": wanted,
            "repeats": -1,
            # The default next_run is "now": a new schedule would back up at once.
            "next_run": next_run(wanted),
        }
        if schedule is None:
            Schedule.objects.create(name=BACKUP_SCHEDULE, **fields)
            return "created"
        for field, value in fields.items():
            setattr(schedule, field, value)
        schedule.save()
        return "updated"


def ensure_outbox_schedule() -> str:
    """The once-a-minute retry of undelivered events (apps.kernel.events); returns
    created, updated or unchanged."""
    return _ensure_every(OUTBOX_SCHEDULE, OUTBOX_TASK, minutes=1)


WEBHOOK_SCHEDULE = "objectos.webhooks"
WEBHOOK_TASK = "apps.automation.webhooks.deliver_due"


def ensure_webhook_schedule() -> str:
    """The once-a-minute attempt of webhook deliveries that are due (retries with
    backoff, apps.automation.webhooks); returns created, updated or unchanged."""
    return _ensure_every(WEBHOOK_SCHEDULE, WEBHOOK_TASK, minutes=1)


STATISTICS_SCHEDULE = "objectos.dbstats"
STATISTICS_TASK = "apps.ops.tasks.refresh_statistics"


def ensure_statistics_schedule() -> str:
    """The hourly ANALYZE of an SQLite database (apps.ops.dbstats); returns created,
    updated or unchanged."""
    return _ensure_every(STATISTICS_SCHEDULE, STATISTICS_TASK, minutes=60)


def _ensure_every(name: str, func: str, minutes: int) -> str:
    """One schedule `name` running `func` every `minutes`, forever (duplicates removed)."""
    fields = {
        "func": func,
        "schedule_type": Schedule.MINUTES,
        "minutes": minutes,
        "repeats": -1,
    }
    with transaction.atomic():
        existing = list(Schedule.objects.filter(name=name).order_by("pk"))
        for duplicate in existing[1:]:
            duplicate.delete()
        schedule = existing[0] if existing else None
        if schedule is None:
            Schedule.objects.create(name=name, **fields)
            return "created"
        if all(getattr(schedule, field) == value for field, value in fields.items()):
            return "unchanged"
        Schedule.objects.filter(pk=schedule.pk).update(**fields)
        return "updated"
