"""Where snapshots live: a local folder or an S3-compatible bucket (through django-storages).

A location is a path (`/var/backups/objectos`) or `s3://bucket/prefix` with optional query
`?endpoint=http://127.0.0.1:9000&region=eu-west-1` (else AWS_S3_ENDPOINT_URL / AWS_ENDPOINT_URL
and AWS_DEFAULT_REGION); credentials come from the usual AWS_* environment, never the URL.

A backup is written to a staging folder on local disk and then committed: renamed into
place in a local folder (atomic), or uploaded dump first and manifest last to a bucket. So
a snapshot that is listed is complete, and `names()` lists complete snapshots only,
oldest first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings

from apps.ops.exceptions import SnapshotError
from apps.ops.snapshot import MANIFEST, snapshot_order, snapshot_time

STAGING_PREFIX = ".partial-"
S3_MEMORY_BYTES = 16 * 1024 * 1024  # a downloaded file larger than this spools to disk


class Store(Protocol):
    """A place holding snapshots, each a folder named like `objectos-<time>-...`."""

    location: str

    def names(self) -> list[str]: ...

    def exists(self, name: str) -> bool: ...

    def staging(self) -> Path: ...

    def commit(self, staging: Path, name: str) -> str: ...

    def fetch(self, name: str) -> Any: ...  # a context manager yielding a local folder

    def delete(self, name: str) -> None: ...


def _sorted(names: list[str]) -> list[str]:
    return sorted((n for n in names if snapshot_time(n)), key=snapshot_order)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalStore:
    """A folder on this machine (default: OS_DATA_DIR/backups)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return _sorted([p.name for p in self.root.iterdir() if (p / MANIFEST).is_file()])

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def staging(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def commit(self, staging: Path, name: str) -> str:
        target = self.root / name
        os.rename(staging, target)
        _fsync_dir(self.root)
        return str(target)

    @contextmanager
    def fetch(self, name: str) -> Iterator[Path]:
        path = self.root / name
        if not path.is_dir():
            raise SnapshotError(f"no snapshot named {name} in {self.root}")
        yield path

    def delete(self, name: str) -> None:
        shutil.rmtree(self.root / name)


class S3Store:
    """A prefix in an S3-compatible bucket, through django-storages' S3Storage."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None, region: str | None):
        from storages.backends.s3 import S3Storage

        self.bucket, self.prefix, self.endpoint, self.region = bucket, prefix, endpoint, region
        query = {key: value for key, value in (("endpoint", endpoint), ("region", region)) if value}
        self.location = f"s3://{bucket}/{prefix}".rstrip("/")
        self.query = f"?{urlencode(query)}" if query else ""
        self.storage = S3Storage(
            bucket_name=bucket,
            location=prefix,
            endpoint_url=endpoint,
            region_name=region,
            addressing_style="path" if endpoint else None,
            file_overwrite=True,
            default_acl=None,
            querystring_auth=False,
            max_memory_size=S3_MEMORY_BYTES,
        )

    def names(self) -> list[str]:
        folders, _files = self.storage.listdir("")
        return _sorted([name for name in folders if self.storage.exists(f"{name}/{MANIFEST}")])

    def exists(self, name: str) -> bool:
        folders, files = self.storage.listdir(name)
        return bool(folders or files)

    def staging(self) -> Path:
        root = Path(settings.OS_DATA_DIR) / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))

    def commit(self, staging: Path, name: str) -> str:
        from django.core.files import File

        files = sorted(p for p in staging.iterdir() if p.name != MANIFEST)
        for path in [*files, staging / MANIFEST]:
            with path.open("rb") as handle:
                self.storage.save(f"{name}/{path.name}", File(handle, name=path.name))
        shutil.rmtree(staging)
        return f"{self.location}/{name}{self.query}"

    @contextmanager
    def fetch(self, name: str) -> Iterator[Path]:
        _folders, files = self.storage.listdir(name)
        if MANIFEST not in files:
            raise SnapshotError(f"no snapshot named {name} in {self.location}")
        local = self.staging()
        try:
            for file_name in files:
                with self.storage.open(f"{name}/{file_name}", "rb") as remote:
                    with (local / file_name).open("wb") as handle:
                        shutil.copyfileobj(remote, handle, 1024 * 1024)
            target = local / name
            target.mkdir()
            for file_name in files:
                os.rename(local / file_name, target / file_name)
            yield target
        finally:
            shutil.rmtree(local, ignore_errors=True)

    def delete(self, name: str) -> None:
        _folders, files = self.storage.listdir(name)
        for file_name in sorted(files, key=lambda f: f == MANIFEST, reverse=True):
            self.storage.delete(f"{name}/{file_name}")  # manifest first: never half-listed


def _s3(url: str) -> tuple[S3Store, str]:
    """The store of an s3:// URL, and the URL's path inside the bucket."""
    parts = urlsplit(url)
    if not parts.netloc:
        raise SnapshotError(f"{url}: an S3 location is s3://bucket[/prefix][?endpoint=URL]")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    endpoint = (
        query.get("endpoint")
        or os.environ.get("AWS_S3_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    region = query.get("region") or os.environ.get("AWS_S3_REGION_NAME")
    region = region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    return S3Store(parts.netloc, "", endpoint, region), parts.path.strip("/")


def open_store(location: str | os.PathLike[str]) -> Store:
    """The store at `location` (a folder path or an s3:// URL)."""
    text = str(location)
    if text.startswith("s3://"):
        store, prefix = _s3(text)
        return S3Store(store.bucket, prefix, store.endpoint, store.region)
    return LocalStore(Path(text).expanduser().resolve())


def default_location() -> str:
    return str(settings.OS_BACKUP_DIR)


def locate(reference: str | None, default: str | None = None) -> tuple[Store, str]:
    """(store, snapshot name) for what an operator typed: a snapshot folder's path, an
    s3://bucket/prefix/NAME URL, a bare name or `latest` (in `default`, OS_BACKUP_DIR
    unless given), or nothing (the latest)."""
    default_store = open_store(default or default_location())
    if reference in (None, "", "latest"):
        names = default_store.names()
        if not names:
            raise SnapshotError(f"no snapshots in {default_store.location}")
        return default_store, names[-1]
    assert reference is not None
    if reference.startswith("s3://"):
        store, path = _s3(reference)
        prefix, _, name = path.rpartition("/")
        if not name:
            raise SnapshotError(f"{reference}: name the snapshot, s3://bucket/prefix/NAME")
        return S3Store(store.bucket, prefix, store.endpoint, store.region), name
    path = Path(reference).expanduser()
    if path.is_dir():
        resolved = path.resolve()
        return LocalStore(resolved.parent), resolved.name
    if "/" not in reference and default_store.exists(reference):
        return default_store, reference
    raise SnapshotError(
        f"no snapshot {reference} (neither a folder nor in {default_store.location})"
    )


def prune(store: Store, keep: int) -> list[str]:
    """Delete all but the `keep` newest snapshots; returns the names deleted, oldest first."""
    if keep < 1:
        raise SnapshotError(f"keep must be at least 1, not {keep}")
    names = store.names()
    doomed = names[: max(0, len(names) - keep)]
    for name in doomed:
        store.delete(name)
    return doomed
