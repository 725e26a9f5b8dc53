"""The `files` storage (STORAGES["files"]) of media fields, from OS_STORAGE_URL.

- empty (default): local disk under `OS_DATA_DIR/files`, owner-only permissions;
- a path or `file:///path`: local disk there;
- `s3://bucket[/prefix][?endpoint=URL&region=NAME]`: an S3-compatible bucket through
  django-storages. Credentials come from the usual AWS environment (AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, or a profile / instance role), never from the URL. Without
  `endpoint`, AWS_S3_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL apply (else AWS).

Files are never served from the storage's own URLs: downloads go through the API with the
record's permissions, so the bucket stays private (no ACL is set on the objects).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# An S3 object read by the storage itself (not streamed) spools to disk past this size.
S3_MEMORY_BYTES = 8 * 1024 * 1024


def files_storage(url: str, local_root: Path) -> dict[str, Any]:
    """The STORAGES entry for `url` (see the module docstring)."""
    text = (url or "").strip()
    if text.startswith("s3://"):
        return _s3(text)
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    elif "://" in text:
        raise ImproperlyConfigured(
            f"OS_STORAGE_URL {url!r}: use a folder path, file:///path or s3://bucket[/prefix]"
        )
    root = Path(text).expanduser().resolve() if text else local_root
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(root),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }


def _s3(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if not parts.netloc:
        raise ImproperlyConfigured(
            f"OS_STORAGE_URL {url!r}: an S3 location is s3://bucket[/prefix][?endpoint=URL]"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"endpoint", "region"})
    if unknown:
        raise ImproperlyConfigured(
            f"OS_STORAGE_URL: unknown parameter {', '.join(unknown)} (endpoint, region)"
        )
    endpoint = (
        query.get("endpoint")
        or os.environ.get("AWS_S3_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    region = (
        query.get("region")
        or os.environ.get("AWS_S3_REGION_NAME")
        or os.environ.get("AWS_DEFAULT_REGION")
        or os.environ.get("AWS_REGION")
    )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parts.netloc,
            "location": parts.path.strip("/"),
            "endpoint_url": endpoint or None,
            "region_name": region or None,
            # S3-compatible servers (MinIO, moto, Ceph) want path-style addressing.
            "addressing_style": "path" if endpoint else None,
            "signature_version": "s3v4",
            "default_acl": None,
            # Keys carry a random uuid: no existence check (one HEAD request) per upload.
            "file_overwrite": True,
            "max_memory_size": S3_MEMORY_BYTES,
        },
    }
