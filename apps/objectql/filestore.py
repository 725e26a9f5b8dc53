"""The `files` storage of media fields: reading, and deleting only after the commit.

Bytes live in STORAGES["files"] (local disk or an S3-compatible bucket, see
objectos_site.file_storage). Storage and database share no transaction, so a file is
deleted only from a `transaction.on_commit` callback: a rolled-back change leaves every
file in place. The write path calls two hooks: after an update,
`delete_dropped_files_after_commit` (files a media field no longer holds: replaced,
removed or cleared by any update); before a delete, `delete_record_files_after_commit`
(files of the record and of every row its deletion cascades to, as Django's Collector
decides), at no cost for objects that cannot reach a file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import IO, Any

from django.core.files.storage import Storage, storages
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector

from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql.filemeta import entries, key_prefix, media_fields, owned_key
from apps.projects.context import Context

logger = logging.getLogger("objectos.files")
STORAGE_ALIAS = "files"


def file_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def open_stored(key: str) -> tuple[IO[bytes], int | None]:
    """The stored file `key`, open for reading, and its size; FileNotFoundError if gone.

    From S3 the object's body is streamed as it arrives; django-storages' own file
    object would first copy the whole object to a temporary file."""
    storage = file_storage()
    bucket = getattr(storage, "bucket", None)
    if bucket is None:
        handle = storage.open(key, "rb")
        return handle, handle.size
    from botocore.exceptions import ClientError

    location = str(getattr(storage, "location", "") or "").strip("/")
    try:
        response = bucket.Object(f"{location}/{key}" if location else key).get()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            raise FileNotFoundError(key) from None
        raise
    return response["Body"], response.get("ContentLength")


def delete_quietly(keys: Iterable[str]) -> None:
    """Delete stored files; a failure is logged (the file is left behind), never raised."""
    storage = file_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            logger.exception("could not delete stored file %s", key)


def delete_after_commit(keys: list[str]) -> None:
    """Delete `keys` from the storage once the current transaction commits."""
    if keys:
        transaction.on_commit(partial(delete_quietly, list(keys)), robust=True)


def delete_dropped_files_after_commit(
    ctx: Context, runtime: ObjectRuntime, before: dict[str, Any], changed: dict[str, Any]
) -> None:
    """After an update: the stored files its media fields no longer hold (replaced,
    removed or cleared) are deleted after the commit."""
    names = [name for name in media_fields(runtime) if name in changed]
    if not names:
        return
    keys: list[str] = []
    for name in names:
        prefix = key_prefix(ctx.kernel.project_name, runtime.name, before["id"], name)
        kept = {k for e in entries(changed[name]) if (k := owned_key(prefix, e))}
        keys += [
            k for e in entries(before.get(name)) if (k := owned_key(prefix, e)) and k not in kept
        ]
    delete_after_commit(keys)


def delete_record_files_after_commit(ctx: Context, runtime: ObjectRuntime, instance: Any) -> None:
    """Before `instance.delete()`: its files and those of the rows its deletion cascades
    to are deleted after the commit (nothing happens when the transaction rolls back)."""
    kernel: Kernel = ctx.kernel
    if not _cascade_reaches_files(kernel, runtime):
        return
    collector = Collector(using=instance._state.db or "default", origin=instance)
    try:
        collector.collect([instance])
    except (ProtectedError, RestrictedError):
        return  # the delete itself refuses (409)
    runtimes = {target.model: target for target in kernel.objects.values()}
    batches: list[tuple[Any, Any]] = [
        (model, model._base_manager.filter(pk__in=[obj.pk for obj in objs]))
        for model, objs in collector.data.items()
    ]
    batches += [(rows.model, rows) for rows in collector.fast_deletes]
    keys: list[str] = []
    for model, rows in batches:
        target = runtimes.get(model)
        fields = media_fields(target) if target is not None else ()
        if not fields:
            continue
        for row in rows.values("pk", *fields):
            for name in fields:
                prefix = key_prefix(kernel.project_name, target.name, row["pk"], name)
                keys += [k for e in entries(row[name]) if (k := owned_key(prefix, e))]
    delete_after_commit(keys)


def _cascade_reaches_files(kernel: Kernel, runtime: ObjectRuntime) -> bool:
    """Whether deleting a row of `runtime` may delete a stored file (computed once)."""
    reaches = runtime.plans.get("cascade_reaches_files")
    if reaches is None:
        reaches = runtime.plans["cascade_reaches_files"] = _reaches(kernel, runtime.name, set())
    return reaches


def _reaches(kernel: Kernel, object_name: str, seen: set[str]) -> bool:
    if object_name in seen:
        return False
    seen.add(object_name)
    if media_fields(kernel.object(object_name)):
        return True
    for child, field_name in kernel.children.get(object_name, ()):
        model_field = kernel.object(child).model._meta.get_field(field_name)
        on_delete = getattr(model_field.remote_field, "on_delete", None)
        if on_delete is models.CASCADE and _reaches(kernel, child, seen):
            return True
    return False
