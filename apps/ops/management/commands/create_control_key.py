"""manage.py create_control_key NAME [--project P ...] | --revoke NAME: control-plane keys."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.ops.models import ControlKey, hash_key


class Command(BaseCommand):
    help = (
        "Create a key another instance uses to read this one's published artifacts "
        "(/api/v1/control); the key is printed only now and stored hashed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="who uses the key, e.g. the other instance's name")
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            dest="projects",
            help="limit the key to this project (repeatable; default: every project)",
        )
        parser.add_argument("--revoke", action="store_true", help="revoke the keys named NAME")

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("a key needs a name")
        if options["revoke"]:
            count = ControlKey.objects.filter(name=name, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if not count:
                raise CommandError(f"no live control key named '{name}'")
            self.stderr.write(f"revoked {count} control key(s) named '{name}'")
            return
        prefix, key = ControlKey.generate()
        ControlKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=hash_key(key),
            projects=sorted(set(options["projects"])),
        )
        self.stdout.write(key)
