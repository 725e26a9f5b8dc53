"""File-backed boot mode: `OS_ARTIFACT_FILE` is the project's artifact, loaded at start and
again whenever its content changes.

`FileSource.sync()` is one poll: a `stat` (mtime and size); only when they moved is the file
read and hashed (sha256 of its bytes), and only a new hash is loaded. A valid artifact goes
through `apps.ops.autopublish` (additive plans published, riskier ones left pending); an
invalid one is logged and audited and changes nothing; a missing file is logged once.
A poll that could not take the boot lock (another process is publishing) or lost the
database is retried on the next one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.ops.autopublish import Outcome, publish_automatically, report_invalid, sync_lock
from apps.projects.models import PROJECT_NAME_PATTERN, Project
from apps.schema.management.commands.load_artifact import project_name_from

logger = logging.getLogger("objectos.boot")


@dataclass(frozen=True)
class Fingerprint:
    mtime_ns: int
    size: int


class FileSource:
    """The artifact file of the file-backed mode and what was last made of it (per process)."""

    mode = "file"

    def __init__(self, path: str, project: str, hosts: list[str], poll_seconds: float) -> None:
        self.path = Path(path)
        self.project = project  # empty: named after the manifest's namespace
        self.hosts = hosts
        self.poll_seconds = poll_seconds
        self._fingerprint: Fingerprint | None = None
        self._sha256 = ""
        self._status: dict[str, Any] = {"state": "starting"}

    def sync(self, *, wait: bool = False) -> bool:
        """One poll; True when the file's content was new and has been dealt with."""
        try:
            stat = self.path.stat()
        except OSError as error:
            if self._status.get("state") != "missing":
                logger.warning("boot: artifact file %s cannot be read: %s", self.path, error)
            self._fingerprint = None
            self._report("missing", f"cannot read the artifact file ({type(error).__name__})")
            return False
        fingerprint = Fingerprint(stat.st_mtime_ns, stat.st_size)
        if fingerprint == self._fingerprint:
            self._status["checked_at"] = _now()
            return False
        data = self.path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 == self._sha256:
            self._fingerprint = fingerprint
            self._status["checked_at"] = _now()
            return False
        try:
            with sync_lock(wait=wait) as held:
                if not held:
                    return False  # another process is publishing: look again next poll
                self._load(data, sha256)
        except DatabaseError as error:
            logger.warning("boot: database unavailable while loading %s: %s", self.path, error)
            self._report("failed", "the database is unavailable; retrying")
            return False
        self._fingerprint, self._sha256 = fingerprint, sha256
        return True

    def _load(self, data: bytes, sha256: str) -> None:
        source = f"file:{self.path}"
        try:
            loaded = load_artifact(data)
        except ArtifactInvalid as error:
            name = self.project or self._known_project() or "?"
            report_invalid(name, error, source=source, sha256=sha256)
            self._report(
                "invalid",
                f"the file is invalid ({len(error.issues)} problems); nothing was changed",
                file_sha256=sha256,
                problems=[str(issue) for issue in error.issues[:5]],
            )
            return
        for warning in loaded.warnings:
            logger.info("boot: %s: warning: %s", self.path, warning)
        name = self.project or project_name_from(loaded.artifact.manifest)
        if not re.match(PROJECT_NAME_PATTERN, name):
            logger.error("boot: invalid project name %r for %s", name, self.path)
            self._report("failed", f"invalid project name '{name}' (set OS_PROJECT)")
            return
        outcome = publish_automatically(name, self.hosts, loaded, source=source)
        self._report_outcome(outcome, sha256)

    def _known_project(self) -> str:
        """The project this file was last published as (for reports before it is named)."""
        return str(self._status.get("project", ""))

    def _report_outcome(self, outcome: Outcome, sha256: str) -> None:
        project = Project.objects.filter(name=outcome.project).select_related("published_version")
        row = project.first()
        published = (
            row.published_version.number if row is not None and row.published_version else None
        )
        self._report(
            outcome.state,
            outcome.message,
            file_sha256=sha256,
            project=outcome.project,
            published_version=published,
            pending_version=outcome.version if outcome.state == "pending" else None,
            risk=outcome.risk or None,
        )

    def _report(self, state: str, message: str, **details: Any) -> None:
        now = _now()
        if self._status.get("state") == state and self._status.get("message") == message:
            self._status.update(details, checked_at=now)
            return
        kept = {k: v for k, v in self._status.items() if k in ("project", "published_version")}
        self._status = {**kept, "state": state, "message": message, **details}
        self._status["checked_at"] = self._status["changed_at"] = now

    def status(self) -> dict[str, Any]:
        """For /readyz: the file's name (not its path), the last outcome and when."""
        return {"mode": self.mode, "file": os.path.basename(self.path), **self._status}


def _now() -> str:
    return timezone.now().isoformat(timespec="seconds")
