"""`manage.py ensure_schedules`: create, update or remove this instance's django-q2 schedules."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.ops.exceptions import OpsError
from apps.ops.schedules import (
    BACKUP_SCHEDULE,
    OUTBOX_SCHEDULE,
    STATISTICS_SCHEDULE,
    WEBHOOK_SCHEDULE,
    ensure_backup_schedule,
    ensure_outbox_schedule,
    ensure_statistics_schedule,
    ensure_webhook_schedule,
)


class Command(BaseCommand):
    help = (
        "Make the django-q2 schedules match the environment: OS_BACKUP_SCHEDULE (cron, UTC) "
        "runs a backup to OS_BACKUP_DIR keeping OS_BACKUP_KEEP snapshots; the event outbox "
        "is retried every minute, webhooks delivered every minute and SQLite's planner "
        "statistics refreshed every hour. Idempotent."
    )

    def handle(self, *args, **options) -> None:
        try:
            outcome = ensure_backup_schedule()
        except OpsError as error:
            raise CommandError(str(error))
        self.stdout.write(f"schedule {BACKUP_SCHEDULE}: {outcome}")
        self.stdout.write(f"schedule {OUTBOX_SCHEDULE}: {ensure_outbox_schedule()}")
        self.stdout.write(f"schedule {WEBHOOK_SCHEDULE}: {ensure_webhook_schedule()}")
        self.stdout.write(f"schedule {STATISTICS_SCHEDULE}: {ensure_statistics_schedule()}")
