"""Publish an artifact that arrived without a person at the keyboard (file-backed and
cloud-connected boot modes), through the normal schema workflow.

`publish_automatically` ensures the project and its hosts, proposes the artifact (a pending
version with its plan, audited as `artifact.load`) and then decides, as the system:

- file-backed (`upstream_approved=False`): a plan that is only metadata-only or additive is
  approved at once; anything riskier (rewrite, destructive) stays pending for
  `approve_artifact` and the last published version keeps being served;
- cloud-connected (`upstream_approved=True`): the control plane publishes only versions a
  person approved there, so every plan is applied, destructive ones included.

Each automatic approval is audited as `artifact.auto_approve` (source, risk) next to the
`artifact.publish` event of the workflow; a failed apply as `artifact.apply_failed`.
`sync_lock` keeps two processes on one database from publishing at the same moment.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import LoadedArtifact
from apps.audit import record as audit
from apps.audit.models import AuditEvent
from apps.projects.models import Project
from apps.schema import publish
from apps.schema.exceptions import SchemaError
from apps.schema.plan import worst_risk

logger = logging.getLogger("objectos.boot")

AUTOMATIC_RISKS = frozenset({"metadata-only", "additive"})
# pg_advisory_lock key of the boot sync ("objboot"); advisory locks are per database.
ADVISORY_KEY = 0x6F626A626F6F74
LOCK_FILE = "boot.lock"


@dataclass(frozen=True)
class Outcome:
    """What happened to one artifact: `state` is unchanged, published, pending or failed."""

    project: str
    state: str
    version: int | None = None  # the local version number concerned
    risk: str = ""
    message: str = ""


@contextmanager
def sync_lock(*, wait: bool) -> Iterator[bool]:
    """Hold the boot lock of this database; yields False when busy and `wait` is false.

    PostgreSQL: a session advisory lock (any machine); SQLite: `flock` on
    `OS_DATA_DIR/boot.lock` (the database is a file on this machine).
    """
    if connection.vendor == "postgresql":
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [ADVISORY_KEY])
            row = cursor.fetchone()
        held = True if wait else bool(row[0])
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        return
    path = Path(settings.OS_DATA_DIR) / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock


def publish_automatically(
    name: str,
    hosts: list[str],
    loaded: LoadedArtifact,
    *,
    source: str,
    upstream_approved: bool = False,
    details: dict | None = None,
) -> Outcome:
    """Propose `loaded` for project `name` and approve it when the policy allows (see above)."""
    try:
        project = publish.ensure_project(name, hosts, label=loaded.artifact.manifest.name or "")
        candidate = publish.propose(project, loaded)
    except SchemaError as error:
        logger.error("boot: %s from %s not loaded: %s", name, source, error)
        return Outcome(name, "failed", message=str(error))
    version = candidate.version
    if candidate.unchanged:
        return Outcome(name, "unchanged", version.number, message="already published")
    risk = worst_risk(candidate.plan)
    if not upstream_approved and risk not in AUTOMATIC_RISKS:
        flag = " --allow-destructive" if risk == "destructive" else ""
        message = (
            f"version {version.number} is {risk}: it waits for approval "
            f"(python manage.py approve_artifact {name} {version.number}{flag}); "
            f"the published version is still served"
        )
        logger.warning("boot: %s %s", name, message)
        return Outcome(name, "pending", version.number, risk, message)
    ctx = publish.system_context(project)
    try:
        publish.approve(version, allow_destructive=upstream_approved)
    except SchemaError as error:
        logger.error("boot: %s version %s could not be applied: %s", name, version.number, error)
        audit.record(
            ctx,
            "artifact.apply_failed",
            details={"version": version.number, "source": source, "error": str(error)[:1000]},
        )
        return Outcome(name, "failed", version.number, risk, str(error))
    audit.record(
        ctx,
        "artifact.auto_approve",
        details={"version": version.number, "source": source, "risk": risk, **(details or {})},
    )
    logger.info("boot: %s version %s published (%s, from %s)", name, version.number, risk, source)
    return Outcome(name, "published", version.number, risk, f"version {version.number} published")


def report_invalid(name: str, error: ArtifactInvalid, *, source: str, sha256: str) -> None:
    """Log and audit (`artifact.invalid`) an artifact that cannot be loaded; changes nothing.

    Several processes may watch the same source: the event is not repeated when the last
    event of the chain already reports the same content.
    """
    issues = [str(issue) for issue in error.issues]
    logger.error(
        "boot: artifact for %s from %s is invalid (%d problems, nothing changed); first: %s",
        name,
        source,
        len(issues),
        issues[0] if issues else "?",
    )
    project = Project.objects.filter(name=name).first()
    ctx = publish.system_context(project) if project is not None else None
    chain = project.name if project is not None else audit.SYSTEM_CHAIN
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("action", "details")
    last_event = last.first()
    if (
        last_event is not None
        and last_event["action"] == "artifact.invalid"
        and last_event["details"].get("sha256") == sha256
    ):
        return
    audit.record(
        ctx,
        "artifact.invalid",
        details={
            "project": name,
            "source": source,
            "sha256": sha256,
            "problems": len(issues),
            "issues": issues[:20],
        },
    )
