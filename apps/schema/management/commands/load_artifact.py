"""manage.py load_artifact FILE [--project NAME] [--host HOST ...] [--approve] [--allow-destructive]"""

from __future__ import annotations

import re
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.automation.validation import validation_problems
from apps.kernel.kernel import Kernel
from apps.projects.models import PROJECT_NAME_PATTERN
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import format_plan
from apps.security.access import rule_problems


def project_name_from(manifest) -> str:
    base = manifest.namespace or manifest.id or "app"
    name = re.sub(r"[^a-z0-9_]", "_", base.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"p_{name}"
    return name[:31]


class Command(BaseCommand):
    help = (
        "Validate an ObjectStack artifact, show its schema plan, and (with --approve) publish it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path to objectstack.json")
        parser.add_argument("--project", help="project name (default: the manifest namespace)")
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            dest="hosts",
            help="hostname served by the project (repeatable)",
        )
        parser.add_argument("--approve", action="store_true", help="apply and publish now")
        parser.add_argument(
            "--allow-destructive",
            action="store_true",
            help="allow dropping fields/objects and narrowing types",
        )

    def handle(self, *args, **options) -> None:
        try:
            loaded = load_artifact(options["file"])
        except FileNotFoundError:
            raise CommandError(f"no such file: {options['file']}") from None
        except ArtifactInvalid as error:
            for issue in error.issues:
                self.stderr.write(f"  {issue}")
            raise CommandError(
                f"artifact is invalid: {len(error.issues)} problem(s), nothing was changed; "
                f"first: {error.issues[0]}"
            ) from None
        for warning in loaded.warnings:
            self.stdout.write(f"warning: {warning}")
        checked = Kernel("check", 0, 0, loaded)
        for problem in rule_problems(checked) + validation_problems(checked):
            self.stdout.write(f"warning: {problem}")
        name = options["project"] or project_name_from(loaded.artifact.manifest)
        if not re.match(PROJECT_NAME_PATTERN, name):
            raise CommandError(
                f"invalid project name '{name}': use a-z, 0-9 and _ "
                "(start with a letter, at most 31 characters)"
            )
        try:
            project = publish.ensure_project(
                name, options["hosts"], label=loaded.artifact.manifest.name or ""
            )
            candidate = publish.propose(project, loaded)
        except SchemaError as error:
            raise CommandError(str(error)) from None
        if candidate.unchanged:
            self.stdout.write(
                f"project {name}: artifact unchanged (version "
                f"{candidate.version.number} is published)"
            )
            return
        version = candidate.version
        self.stdout.write(
            f"project {name}: version {version.number} (sha256 {loaded.sha256[:12]}) plan:"
        )
        self.stdout.write(format_plan(candidate.plan))
        if not options["approve"]:
            self.stdout.write(
                f"pending approval: python manage.py approve_artifact {name} {version.number}"
            )
            return
        try:
            publish.approve(version, allow_destructive=options["allow_destructive"])
        except SchemaError as error:
            raise CommandError(f"{error} (version {version.number} stays pending)") from None
        self.stdout.write(self.style.SUCCESS(f"published {name} version {version.number}"))
        sys.stdout.flush()
