"""File descriptors of media fields: the storage keys a record owns and its download paths.

A stored file's key is `<project>/<object>/<record id>/<field>/<uuid>-<safe name>`. Only
keys under the record's own prefix belong to it: those are served, replaced and deleted
with it. A key a client wrote into the JSON by hand (another record's file) is never
served or deleted through this record. No I/O here; the services are in `files`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

from apps.kernel.kernel import ObjectRuntime

MEDIA_TYPES = frozenset({"file", "image", "avatar", "video", "audio"})
# The download route of apps.api (ObjectStack data routes live under /api/v1/data).
DOWNLOAD_PATH = "/api/v1/data/{object}/{id}/files/{field}/{ref}"
MAX_NAME_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def media_fields(runtime: ObjectRuntime) -> tuple[str, ...]:
    """The object's stored media fields, in artifact order (computed once per kernel)."""
    names = runtime.plans.get("media_fields")
    if names is None:
        names = runtime.plans["media_fields"] = tuple(
            name
            for name, field in runtime.fields.items()
            if field.stored and field.definition.type in MEDIA_TYPES
        )
    return names


def key_prefix(project: str, object_name: str, record_id: Any, field_name: str) -> str:
    return f"{project}/{object_name}/{record_id}/{field_name}/"


def safe_name(name: str) -> str:
    """A file name usable in a storage key: ASCII letters, digits, `._-`, extension kept."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = _UNSAFE.sub("_", stem).strip("._") or "file"
    extension = _UNSAFE.sub("", extension)[:16]
    stem = stem[: MAX_NAME_LENGTH - len(extension) - 1]
    return f"{stem}.{extension}" if extension else stem


def new_key(prefix: str, name: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}-{safe_name(name)}"


def entries(value: Any) -> list[dict[str, Any]]:
    """The file descriptors of a stored value (one, a list of them, or none)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def owned_key(prefix: str, entry: dict[str, Any]) -> str | None:
    """The entry's storage key when it lies directly under `prefix`, else None."""
    key = entry.get("key")
    if not isinstance(key, str) or not key.startswith(prefix):
        return None
    rest = key[len(prefix) :]
    if not rest or "/" in rest or "\\" in rest or rest in (".", ".."):
        return None
    return key


def find(items: list[dict[str, Any]], prefix: str, ref: str) -> int | None:
    """The position of the file `ref` names: its index, or its key's last segment."""
    if ref.isdigit() and len(ref) < 10:
        index = int(ref)
        return index if index < len(items) else None
    for index, entry in enumerate(items):
        key = owned_key(prefix, entry)
        if key is not None and key.rsplit("/", 1)[-1] == ref:
            return index
    return None


def download_path(object_name: str, record_id: Any, field_name: str, key: str) -> str:
    return DOWNLOAD_PATH.format(
        object=object_name,
        id=quote(str(record_id), safe=""),
        field=field_name,
        ref=quote(key.rsplit("/", 1)[-1], safe=""),
    )


def add_download_urls(
    project: str, object_name: str, fields: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Point each stored file of `rows` at its download route (`url`), in place."""
    for row in rows:
        record_id = row.get("id")
        if record_id is None:
            continue
        for name in fields:
            prefix = key_prefix(project, object_name, record_id, name)
            for entry in entries(row.get(name)):
                key = owned_key(prefix, entry)
                if key is not None:
                    entry["url"] = download_path(object_name, record_id, name, key)
