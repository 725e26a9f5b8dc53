"""manage.py grant_position PROJECT POSITION PERMISSION_SET [--revoke]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.projects.models import Project
from apps.security.models import PositionGrant


class Command(BaseCommand):
    help = "Give (or take back) a permission set to everyone holding a position in a project."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project")
        parser.add_argument("position")
        parser.add_argument("permission_set")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named '{options['project']}'")
        if project.published_version_id is not None:
            artifact = project.published_version.artifact
            positions = {p.get("name") for p in artifact.get("positions", [])}
            sets = {p.get("name") for p in artifact.get("permissions", [])}
            if options["position"] not in positions:
                raise CommandError(
                    f"the published artifact has no position '{options['position']}'"
                )
            if options["permission_set"] not in sets:
                raise CommandError(
                    f"the published artifact has no permission set '{options['permission_set']}'"
                )
        lookup = {
            "project": project,
            "position": options["position"],
            "permission_set": options["permission_set"],
        }
        if options["revoke"]:
            deleted, _ = PositionGrant.objects.filter(**lookup).delete()
            self.stdout.write(f"revoked {deleted} grant(s)")
            return
        PositionGrant.objects.get_or_create(**lookup)
        self.stdout.write(
            f"holders of {options['position']} get {options['permission_set']} in {project.name}"
        )
