"""Cloud-connected boot mode: the published artifacts of this instance's projects come from
a control plane (`OS_CLOUD_URL`, key `OS_CLOUD_API_KEY`), are cached under `OS_CACHE_DIR`
and published locally; without the control plane the instance serves from the cache.

`CloudSource.sync()` is one poll:

1. `GET {url}/api/v1/control/projects` -> `[{name, hosts, version, sha256}]` (the projects
   the key may see, apps.ops.control); each listed version missing from the cache is
   fetched (`.../projects/<name>/versions/<n>`), checked against its sha256 and written
   atomically to `OS_CACHE_DIR/control-plane/<name>/<n>.json`; the listing is kept as
   `index.json` there.
2. When the control plane cannot be reached (or refuses the key, or answers nonsense) the
   cached `index.json` is used instead, indefinitely; the status says so (/readyz).
3. Each listed version the local database does not already serve is published through
   `apps.ops.autopublish` with `upstream_approved=True`: the control plane serves only
   versions a person approved there, so destructive plans are applied too.

Projects that disappear from the listing are left as they are. Only stdlib HTTP (urllib),
with a timeout; the key goes in `Authorization: Bearer` and is never sent on a redirect.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.load import load_artifact
from apps.ops.autopublish import Outcome, publish_automatically, sync_lock
from apps.ops.exceptions import ControlPlaneError, ControlPlaneRefused
from apps.projects.models import PROJECT_NAME_PATTERN, Project

logger = logging.getLogger("objectos.boot")

TIMEOUT_SECONDS = 10
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
CACHE_FOLDER = "control-plane"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RemoteProject:
    """One entry of the control plane's listing: a project and its published version."""

    name: str
    hosts: list[str]
    version: int
    sha256: str

    @classmethod
    def parse(cls, item: Any) -> RemoteProject:
        if not isinstance(item, dict):
            raise ControlPlaneError("malformed project listing (an entry is not an object)")
        name, hosts = item.get("name"), item.get("hosts")
        version, sha256 = item.get("version"), item.get("sha256")
        if not isinstance(name, str) or not re.match(PROJECT_NAME_PATTERN, name):
            raise ControlPlaneError(f"malformed project listing (project name {name!r})")
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ControlPlaneError(f"malformed project listing (hosts of {name})")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ControlPlaneError(f"malformed project listing (version of {name})")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise ControlPlaneError(f"malformed project listing (sha256 of {name})")
        return cls(name, hosts, version, sha256)


class ControlPlane:
    """A client of another instance's `/api/v1/control/...` routes."""

    def __init__(self, url: str, key: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def projects(self) -> list[RemoteProject]:
        try:
            listing = json.loads(self._get("/api/v1/control/projects"))
        except ValueError:
            raise ControlPlaneError("the project listing is not JSON") from None
        if not isinstance(listing, list):
            raise ControlPlaneError("malformed project listing (not a list)")
        return [RemoteProject.parse(item) for item in listing]

    def artifact(self, name: str, version: int) -> bytes:
        return self._get(f"/api/v1/control/projects/{name}/versions/{version}")

    def _get(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        request.add_unredirected_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = response.read(MAX_ARTIFACT_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise ControlPlaneRefused(f"the control plane refused the key ({error.code})")
            raise ControlPlaneError(f"the control plane answered {error.code} for {path}")
        except (OSError, ValueError, http.client.HTTPException) as error:  # URLError, timeouts
            reason = getattr(error, "reason", None) or error
            raise ControlPlaneError(f"connection failed: {reason}") from None
        if len(data) > MAX_ARTIFACT_BYTES:
            raise ControlPlaneError(f"the answer for {path} is larger than {MAX_ARTIFACT_BYTES}")
        return data


class ArtifactCache:
    """`OS_CACHE_DIR/control-plane`: the last listing and every fetched artifact version."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / CACHE_FOLDER

    def artifact_path(self, name: str, version: int) -> Path:
        return self.root / name / f"{version}.json"

    def has(self, remote: RemoteProject) -> bool:
        return self.artifact_path(remote.name, remote.version).is_file()

    def read(self, remote: RemoteProject) -> bytes:
        return self.artifact_path(remote.name, remote.version).read_bytes()

    def write(self, remote: RemoteProject, data: bytes) -> None:
        _write_atomically(self.artifact_path(remote.name, remote.version), data)

    def listing(self) -> list[RemoteProject] | None:
        """The cached listing, or None when there is none (or it cannot be read)."""
        try:
            index = json.loads((self.root / "index.json").read_text())
            return [RemoteProject.parse(item) for item in index["projects"]]
        except (OSError, ValueError, KeyError, TypeError, ControlPlaneError) as error:
            if not isinstance(error, FileNotFoundError):
                logger.warning("boot: cached index of %s is unreadable: %s", self.root, error)
            return None

    def save_listing(self, projects: list[RemoteProject]) -> None:
        if self.listing() == projects:
            return
        index = {"saved_at": _now(), "projects": [asdict(p) for p in projects]}
        _write_atomically(self.root / "index.json", json.dumps(index, indent=2).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class CloudSource:
    """The control plane, the cache and what was last made of them (per process)."""

    mode = "cloud"

    def __init__(self, url: str, key: str, cache_dir: Path, poll_seconds: float) -> None:
        self.client = ControlPlane(url, key)
        self.cache = ArtifactCache(cache_dir)
        self.poll_seconds = poll_seconds
        self._status: dict[str, Any] = {"control_plane": "unknown", "serving_from": "nothing"}
        self._projects: dict[str, dict[str, Any]] = {}

    def sync(self, *, wait: bool = False) -> bool:
        """One poll; True when something new was published."""
        listing = self._fetch()
        if listing is None:
            listing = self.cache.listing()
            self._status["serving_from"] = "cache" if listing is not None else "nothing"
        self._status["checked_at"] = _now()
        if not listing:
            return False
        try:
            with sync_lock(wait=wait) as held:
                if not held:
                    return False  # another process is publishing: look again next poll
                return any([self._publish(remote) for remote in listing])
        except DatabaseError as error:
            logger.warning("boot: database unavailable while publishing from the cloud: %s", error)
            return False

    def _fetch(self) -> list[RemoteProject] | None:
        """The listing to serve: the control plane's, limited to what is cached, or None.

        A version that cannot be downloaded (or does not match its sha256) is skipped with
        an error and the project keeps its previously cached version.
        """
        try:
            listing = self.client.projects()
        except ControlPlaneError as error:
            state = "refused" if isinstance(error, ControlPlaneRefused) else "unreachable"
            if self._status.get("control_plane") != state:
                logger.warning(
                    "boot: control plane %s (%s); serving from the cache %s",
                    state,
                    error,
                    self.cache.root,
                )
            self._status.update(control_plane=state, error=str(error))
            return None
        previous = {remote.name: remote for remote in self.cache.listing() or []}
        usable, errors = [], []
        for remote in listing:
            try:
                if not self.cache.has(remote):
                    self._download(remote)
                usable.append(remote)
            except ControlPlaneError as error:
                logger.error("boot: %s; keeping the cached version", error)
                errors.append(str(error))
                if remote.name in previous and self.cache.has(previous[remote.name]):
                    usable.append(previous[remote.name])
        self.cache.save_listing(usable)
        if self._status.get("control_plane") != "reachable":
            logger.info("boot: control plane reachable (%d projects)", len(listing))
        self._status.update(
            control_plane="reachable",
            error="; ".join(errors),
            serving_from="control_plane",
            contact_at=_now(),
        )
        return usable

    def _download(self, remote: RemoteProject) -> None:
        data = self.client.artifact(remote.name, remote.version)
        try:
            sha256 = load_artifact(data).sha256
        except ArtifactInvalid as error:  # e.g. a control plane on a newer protocol
            raise ControlPlaneError(
                f"{remote.name} version {remote.version} is invalid here "
                f"({len(error.issues)} problems; first: {error.issues[0]})"
            )
        if sha256 != remote.sha256:
            raise ControlPlaneError(
                f"{remote.name} version {remote.version} does not match its sha256"
            )
        self.cache.write(remote, data)

    def _publish(self, remote: RemoteProject) -> bool:
        """Publish the cached version unless the database already serves its content."""
        served = (
            Project.objects.filter(name=remote.name)
            .values_list("published_version__sha256", "published_version__number")
            .first()
        )
        if served is not None and served[0] == remote.sha256:
            self._note(remote, Outcome(remote.name, "unchanged", served[1]))
            return False
        try:
            loaded = load_artifact(self.cache.read(remote))
        except (OSError, ArtifactInvalid) as error:
            logger.error(
                "boot: cached %s version %s unusable: %s", remote.name, remote.version, error
            )
            self._note(remote, Outcome(remote.name, "failed", message="cached artifact unusable"))
            return False
        outcome = publish_automatically(
            remote.name,
            remote.hosts,
            loaded,
            source=self._source(remote),
            upstream_approved=True,
            details={"upstream_version": remote.version},
        )
        self._note(remote, outcome)
        return outcome.state == "published"

    def _source(self, remote: RemoteProject) -> str:
        return f"cloud:{remote.name}@{remote.version}"

    def _note(self, remote: RemoteProject, outcome: Outcome) -> None:
        self._projects[remote.name] = {
            "upstream_version": remote.version,
            "local_version": outcome.version,
            "state": outcome.state,
        }

    def status(self) -> dict[str, Any]:
        """For /readyz: reachability, where the artifacts come from, each project's versions
        (never the URL or the key)."""
        return {"mode": self.mode, **self._status, "projects": dict(self._projects)}


def _now() -> str:
    return timezone.now().isoformat(timespec="seconds")
