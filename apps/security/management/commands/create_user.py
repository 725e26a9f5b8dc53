"""manage.py create_user EMAIL --password P [--project NAME] [--permission-set N ...]
[--position N ...] [--superuser]"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from apps.projects.models import Project
from apps.security.models import Membership


class Command(BaseCommand):
    help = "Create (or update) a user and their membership in a project."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--password", required=True)
        parser.add_argument("--project")
        parser.add_argument("--permission-set", action="append", default=[], dest="sets")
        parser.add_argument("--position", action="append", default=[], dest="positions")
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, **options) -> None:
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not an email address: {options['email']}") from None
        if len(options["password"]) < 8:
            raise CommandError("password must have at least 8 characters")
        project = None
        if options["project"]:
            project = Project.objects.filter(name=options["project"]).first()
            if project is None:
                raise CommandError(f"no project named '{options['project']}'")
        elif options["sets"] or options["positions"]:
            raise CommandError("--permission-set and --position need --project")
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(
                username=email, defaults={"email": email}
            )
            user.set_password(options["password"])
            if options["superuser"]:
                user.is_superuser = user.is_staff = True
            user.save()
            if project is not None:
                membership, _ = Membership.objects.get_or_create(project=project, user=user)
                membership.permission_sets = sorted(
                    set(membership.permission_sets) | set(options["sets"])
                )
                membership.positions = sorted(set(membership.positions) | set(options["positions"]))
                membership.save()
        verb = "created" if created else "updated"
        self.stdout.write(
            f"{verb} user {email} (id {user.pk})"
            + (f" in project {project.name}" if project else "")
        )
