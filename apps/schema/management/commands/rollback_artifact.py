"""manage.py rollback_artifact PROJECT VERSION [--allow-destructive]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.projects.models import Project
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import format_plan


class Command(BaseCommand):
    help = "Serve an earlier published version again (its reverse plan is applied)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project")
        parser.add_argument("version", type=int)
        parser.add_argument("--allow-destructive", action="store_true")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named '{options['project']}'")
        try:
            plan = publish.rollback(
                project, options["version"], allow_destructive=options["allow_destructive"]
            )
        except SchemaError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(format_plan(plan))
        self.stdout.write(
            self.style.SUCCESS(f"{project.name} now serves version {options['version']}")
        )
