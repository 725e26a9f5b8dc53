"""Load an artifact's seed `data`: insert or upsert by externalId, through the normal writes."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql import write
from apps.objectql.exceptions import ObjectQLError, ValidationFailed
from apps.projects.context import Context
from apps.security.access import object_access
from apps.security.rules import compile_cel
from apps.security.rules.exceptions import RuleError


def _value(
    runtime: ObjectRuntime, kernel: Kernel, name: str, value: Any, natural_keys: dict[str, str]
) -> Any:
    if (
        isinstance(value, dict)
        and set(value) >= {"source"}
        and value.get("dialect", "cel") == "cel"
    ):
        try:
            value = compile_cel(value["source"]).evaluate({})
        except RuleError as error:
            raise ValidationFailed(f"seed value of {runtime.name}.{name}: {error}") from None
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        return value
    field = runtime.fields.get(name)
    if field is None or field.target is None or value is None:
        return value
    if isinstance(value, list):
        return [_reference(kernel, field.target, v, natural_keys) for v in value]
    return _reference(kernel, field.target, value, natural_keys)


def _reference(kernel: Kernel, target_name: str, value: Any, natural_keys: dict[str, str]) -> Any:
    """A seed lookup names its target by id, by the target's externalId or display field."""
    target = kernel.object(target_name)
    manager = target.model._base_manager
    if manager.filter(pk=value).exists():
        return value
    for column in (natural_keys.get(target_name), target.display_field):
        if column and column in target.fields and target.fields[column].stored:
            found = manager.filter(**{column: value}).values_list("pk", flat=True).first()
            if found is not None:
                return found
    return value  # reported by the reference check of the write


def _keys(external_id: str | list[str] | None) -> list[str]:
    if not external_id:
        return []
    return [external_id] if isinstance(external_id, str) else list(external_id)


def load_seed_data(ctx: Context, kernel: Kernel) -> dict[str, int]:
    """Apply every seed block meant for OS_ENV; returns rows written per object.

    Blocks for objects the artifact does not define (platform `sys_*` objects) are
    skipped; the artifact loader lists them.
    """
    written: dict[str, int] = {}
    natural_keys = {
        d.object: _keys(d.external_id)[0]
        for d in kernel.artifact.data
        if len(_keys(d.external_id)) == 1
    }
    for block in kernel.artifact.data:
        if block.env and settings.OS_ENV not in block.env:
            continue
        if block.object not in kernel.objects:
            continue
        runtime = kernel.object(block.object)
        access = object_access(ctx, runtime)
        keys = _keys(block.external_id)
        for index, record in enumerate(block.records):
            data = {
                n: _value(runtime, kernel, n, v, natural_keys)
                for n, v in record.items()
                if n != "id"
            }
            existing = None
            if keys and all(data.get(k) is not None for k in keys):
                existing = (
                    runtime.model._base_manager.filter(**{k: data[k] for k in keys})
                    .values_list("pk", flat=True)
                    .first()
                )
            prefix = f"data.{block.object}[{index}]."
            try:
                if existing is None:
                    write._insert(ctx, runtime, access, data, prefix=prefix)
                elif block.mode in ("upsert", "update"):
                    write._update(ctx, runtime, access, existing, data, prefix=prefix)
                else:
                    continue
            except ObjectQLError as error:
                details = "; ".join(f"{p['field']}: {p['message']}" for p in error.fields or [])
                raise ValidationFailed(
                    f"seed data failed: {error.message} {details}".strip(), fields=error.fields
                ) from None
            written[block.object] = written.get(block.object, 0) + 1
    return written
