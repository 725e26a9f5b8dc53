"""manage.py create_api_key EMAIL --project NAME [--name LABEL]: prints the key once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.projects.models import Project
from apps.security.models import ApiKey, hash_secret


class Command(BaseCommand):
    help = "Create an API key acting as a user in one project; the key is shown only now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--project", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"no user {options['email']}")
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named '{options['project']}'")
        prefix, key = ApiKey.generate()
        ApiKey.objects.create(
            prefix=prefix,
            key_hash=hash_secret(key),
            user=user,
            project=project,
            name=options["name"],
        )
        self.stdout.write(key)
