"""manage.py approve_artifact PROJECT VERSION [--allow-destructive] | --reject"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.projects.models import Project
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import format_plan


class Command(BaseCommand):
    help = "Approve (apply and publish) or reject a pending artifact version."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project")
        parser.add_argument("version", type=int)
        parser.add_argument("--allow-destructive", action="store_true")
        parser.add_argument("--reject", action="store_true")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named '{options['project']}'")
        version = project.versions.filter(number=options["version"]).first()
        if version is None:
            raise CommandError(f"project '{project.name}' has no version {options['version']}")
        try:
            if options["reject"]:
                publish.reject(version)
                self.stdout.write(f"rejected {project.name} version {version.number}")
                return
            if version.status != "pending":
                raise CommandError(
                    f"version {version.number} is {version.status}, not pending"
                    " (use rollback_artifact to return to it)"
                )
            plan = publish.approve(version, allow_destructive=options["allow_destructive"])
        except SchemaError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(format_plan(plan))
        self.stdout.write(self.style.SUCCESS(f"published {project.name} version {version.number}"))
