"""manage.py bootstrap_demo: first start of a standalone instance (demo project + first admin).

Publishes fixtures/demo/objectstack.json as project `demo` on 127.0.0.1 and localhost when
no project is published yet, and creates the first admin from OS_ADMIN_EMAIL /
OS_ADMIN_PASSWORD (or prints generated credentials once). `--admin-only` skips the demo
(`manage.py boot` in the file-backed and cloud-connected modes).
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.projects.models import Project
from apps.security.models import Membership

DEMO_FILE = settings.BASE_DIR / "fixtures" / "demo" / "objectstack.json"


class Command(BaseCommand):
    help = "Load the demo artifact and create the first admin on a fresh instance."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--admin-only", action="store_true", help="do not load the demo")

    def handle(self, *args, **options) -> None:
        published = Project.objects.filter(published_version__isnull=False).exists()
        if not published and not options["admin_only"]:
            call_command(
                "load_artifact",
                str(DEMO_FILE),
                project="demo",
                hosts=["127.0.0.1", "localhost"],
                approve=True,
                stdout=self.stdout,
            )
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            return
        email = os.environ.get("OS_ADMIN_EMAIL", "admin@example.com").lower()
        password = os.environ.get("OS_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = user_model.objects.create_superuser(username=email, email=email, password=password)
        for project in Project.objects.all():
            Membership.objects.get_or_create(project=project, user=user)
        shown = password if "OS_ADMIN_PASSWORD" not in os.environ else "(from OS_ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"first admin: {email} / {shown}"))
