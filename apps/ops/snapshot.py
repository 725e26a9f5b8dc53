"""A snapshot: one folder holding the database dump and `manifest.json`.

    objectos-20261121T120000Z-demo.v3-crm.v1/
        objectos.sqlite3 | objectos.dump     the dump (SQLite file | pg_dump custom format)
        manifest.json                        what the dump holds, and its sha256

The name carries the UTC time of the dump and each project's published artifact version,
so `ls` tells which snapshot to restore. The manifest is written last: a folder without
one is an unfinished backup and is never listed. The dump's sha256 is checked before a
restore touches anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import django
from django.conf import settings

from apps.ops.exceptions import SnapshotCorrupted, SnapshotError
from apps.ops.inventory import Inventory, PublishedVersion, TableState

FORMAT = "objectos-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP_FILES = {"sqlite": "objectos.sqlite3", "postgresql": "objectos.dump"}
NAME_PREFIX = "objectos-"
NAME_PATTERN = re.compile(r"^objectos-(?P<time>\d{8}T\d{6}Z)(?:-[A-Za-z0-9_.-]+)?$")
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_NAME_LENGTH = 200
CHUNK = 1024 * 1024


def snapshot_name(created_at: datetime, versions: dict[str, PublishedVersion]) -> str:
    """`objectos-<UTC time>-<project>.v<number>-...`, projects by name; when they do not
    all fit in MAX_NAME_LENGTH characters, the rest is counted (`-and-4-more`)."""
    name = NAME_PREFIX + created_at.astimezone(UTC).strftime(TIME_FORMAT)
    parts = [f"{project}.v{version.number}" for project, version in sorted(versions.items())]
    for index, part in enumerate(parts):
        rest = len(parts) - index - 1
        reserve = len(f"-and-{rest}-more") if rest else 0
        if len(name) + 1 + len(part) + reserve > MAX_NAME_LENGTH:
            return f"{name}-and-{len(parts) - index}-more"
        name += "-" + part
    return name


def snapshot_time(name: str) -> str | None:
    """The UTC time in a snapshot's name (sortable text), None for other names."""
    match = NAME_PATTERN.match(name)
    return match.group("time") if match else None


def copy_number(name: str) -> int:
    """2, 3, ... for the later snapshots taken in the same second (`...-demo.v3-2`), else 1.
    A project segment always starts with a letter, so an all-digit last segment is this."""
    last = name.rsplit("-", 1)[-1]
    return int(last) if last.isdigit() else 1


def snapshot_order(name: str) -> tuple[str, int, str]:
    """Sort key: oldest first."""
    return (snapshot_time(name) or "", copy_number(name), name)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def key_fingerprint() -> str:
    """Tells whether two instances share OS_AUTH_SECRET (secret fields decrypt only with
    the key they were written with) without revealing anything about the key."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"objectos backup key fingerprint", hashlib.sha256).hexdigest()[:16]


def _versions() -> dict[str, str]:
    try:
        objectos = metadata.version("objectos")
    except metadata.PackageNotFoundError:
        objectos = "unknown"
    return {"objectos": objectos, "django": django.get_version()}


def build_manifest(
    *,
    name: str,
    created_at: datetime,
    vendor: str,
    database: dict[str, Any],
    dump: Path,
    inventory: Inventory,
    seconds: float,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created_at": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "database": {"vendor": vendor, **database},
        "software": _versions(),
        "auth_key_fingerprint": key_fingerprint(),
        "projects": {
            project: {"version": version.number, "sha256": version.sha256}
            for project, version in sorted(inventory.versions.items())
        },
        "tables": {
            table: {"rows": state.rows, "sha256": state.sha256}
            for table, state in sorted(inventory.tables.items())
        },
        "total_rows": inventory.total_rows,
        "dump": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": file_sha256(dump)},
        "seconds": round(seconds, 3),
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the snapshot in `folder`, checked for the fields a restore needs."""
    path = folder / MANIFEST
    if not path.is_file():
        raise SnapshotError(f"{folder} is not a snapshot: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise SnapshotCorrupted(f"{path} is not valid JSON ({error}): the snapshot is corrupted")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotCorrupted(f"{path} is not an ObjectOS backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(
            f"{path} has format version {manifest.get('format_version')}; this ObjectOS "
            f"reads version {FORMAT_VERSION}"
        )
    try:
        vendor = manifest["database"]["vendor"]
        dump = manifest["dump"]
        if vendor not in DUMP_FILES or dump["file"] != DUMP_FILES[vendor]:
            raise KeyError("dump.file")
        dump["sha256"], manifest["tables"], manifest["projects"]  # noqa: B018
    except (KeyError, TypeError) as error:
        raise SnapshotCorrupted(f"{path} lacks {error}: the snapshot is corrupted")
    return manifest


def check_dump(folder: Path, manifest: dict[str, Any]) -> Path:
    """The dump file, after checking its sha256 against the manifest (SnapshotCorrupted)."""
    dump = folder / manifest["dump"]["file"]
    if not dump.is_file():
        raise SnapshotCorrupted(f"snapshot {folder.name} is incomplete: {dump.name} is missing")
    actual = file_sha256(dump)
    if actual != manifest["dump"]["sha256"]:
        raise SnapshotCorrupted(
            f"snapshot {folder.name} is corrupted: {dump.name} has sha256 {actual[:12]}..., "
            f"its manifest says {manifest['dump']['sha256'][:12]}..."
        )
    return dump


def manifest_inventory(manifest: dict[str, Any]) -> Inventory:
    return Inventory(
        tables={
            table: TableState(rows=int(state["rows"]), sha256=state["sha256"])
            for table, state in manifest["tables"].items()
        },
        versions={
            project: PublishedVersion(number=int(version["version"]), sha256=version["sha256"])
            for project, version in manifest["projects"].items()
        },
    )
