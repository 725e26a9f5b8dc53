"""Secured writes: create, update, delete and batches, each in one transaction with audit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, QuerySet, RestrictedError
from django.utils import timezone

from apps.audit import linked
from apps.audit import record as audit
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql import filestore, grouped, hooks
from apps.objectql.exceptions import Conflict, Forbidden, RecordNotFound, ValidationFailed
from apps.objectql.models import Sequence
from apps.objectql.params import QuerySpec
from apps.objectql.plans import WritePlan, scope_columns, scope_holds, scoped_row
from apps.objectql.query import get_record, scoped, selected_fields
from apps.objectql.serialize import Serializer
from apps.objectql.transactions import write_transaction
from apps.objectql.validate import clean_payload, problem
from apps.projects.context import Context
from apps.security.access import Access, object_access, parent_field
from apps.security.principal import project_users
from apps.security.rules import MATCH_ALL

REDACTED_TYPES = frozenset({"password", "secret"})
# runtime.plans[BEFORE_WRITE]: hooks(ctx, runtime, event, values, previous) of the upper
# layers (the automation's plugin hooks) that may set or change the cleaned `values` of a
# create or update before validators run; server code, so readonly fields may be set.
BEFORE_WRITE = "before_write"


def _runtime(ctx: Context, object_name: str) -> ObjectRuntime:
    kernel: Kernel = ctx.kernel
    return kernel.object(object_name)


def _redacted(runtime: ObjectRuntime) -> list[str]:
    return [n for n, f in runtime.fields.items() if f.definition.type in REDACTED_TYPES]


def _referable(ctx: Context, target: ObjectRuntime, *, master: bool) -> QuerySet:
    """Rows of `target` the actor may point at: those it reads, and for the master of a
    controlled_by_parent record those it edits. Others answer like missing ids."""
    access = object_access(ctx, target)
    rows = scoped(ctx, target, access)
    if master and access.write_scope is not MATCH_ALL:
        rows = rows.filter(access.write_scope)
    return rows


def _check_references(
    ctx: Context, runtime: ObjectRuntime, values: dict[str, Any], prefix: str = ""
) -> None:
    problems = []
    master = parent_field(runtime)
    for name, target_name in runtime.lookups.items():
        value = values.get(name)
        if value is None:
            continue
        wanted = set(value) if isinstance(value, list) else {value}
        target = ctx.kernel.object(target_name)
        rows = _referable(ctx, target, master=name == master)
        found = set(rows.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            problems.append(
                problem(
                    prefix + name,
                    "invalid_reference",
                    f"no {target_name} with id {', '.join(map(str, missing))}",
                )
            )
    problems.extend(_missing_users(ctx, runtime, values, prefix))
    if problems:
        raise ValidationFailed("validation failed", fields=problems)


def _missing_users(
    ctx: Context, runtime: ObjectRuntime, values: dict[str, Any], prefix: str
) -> list[dict]:
    """Problems for user references (user fields, lookups to sys_user) naming no user of
    the project (for superusers: no user at all)."""
    wanted: dict[str, set[str]] = {}
    for name, field in runtime.fields.items():
        value = values.get(name)
        if field.is_user_reference and value is not None:
            wanted[name] = {str(v) for v in (value if isinstance(value, list) else [value])}
    if not wanted:
        return []
    ids = {int(v) for ids in wanted.values() for v in ids if v.isascii() and v.isdigit()}
    users = get_user_model()._base_manager.filter(pk__in=ids)
    if not ctx.is_superuser:
        users = users.filter(project_users(ctx.project_id))
    found = {str(pk) for pk in users.values_list("pk", flat=True)}
    problems = []
    for name, ids in wanted.items():
        missing = sorted(ids - found)
        if missing:
            problems.append(
                problem(prefix + name, "invalid_reference", f"no user with id {', '.join(missing)}")
            )
    return problems


def _next_number(ctx: Context, runtime: ObjectRuntime, field_name: str) -> int:
    key = f"{ctx.kernel.project_name}.{runtime.name}.{field_name}"
    sequence, _ = Sequence.objects.select_for_update().get_or_create(key=key)
    Sequence.objects.filter(pk=sequence.pk).update(value=F("value") + 1)
    return sequence.value + 1


class Written:
    """The id of a written row and, when the write returned it, the row as stored (or
    the statement held for the COMMIT that will return it: `deferred`)."""

    __slots__ = ("id", "row", "moved", "deferred")

    def __init__(
        self,
        record_id: Any,
        row: dict[str, Any] | None,
        moved: bool = True,
        deferred: linked.Deferred | None = None,
    ) -> None:
        self.id = record_id
        self.row = row
        # False when the write cannot have moved the row out of the actor's read scope.
        self.moved = moved
        self.deferred = deferred


def _cleaned_insert(
    ctx: Context, runtime: ObjectRuntime, access: Access, data: Any, prefix: str = ""
) -> dict[str, Any]:
    """A create's payload, allowed and cleaned: no database work, so a single create
    does it before it takes the write lock (SQLite: one writer at a time)."""
    if not access.can_create:
        raise Forbidden(f"you may not create {runtime.name}")
    return clean_payload(
        runtime,
        access,
        data,
        creating=True,
        prefix=prefix,
        user_id=ctx.user_id,
        system=ctx.is_system,
    )


class Ready:
    """A create made ready from its values alone: system columns filled in, the id it will
    have, the INSERT's parameters (None: the ORM writes) and the audit event."""

    __slots__ = ("event", "params", "record_id", "values")

    def __init__(
        self, values: dict[str, Any], record_id: str, params: list | None, event: dict
    ) -> None:
        self.values = values
        self.record_id = record_id
        self.params = params
        self.event = event


def _ready_alone(runtime: ObjectRuntime) -> bool:
    """Whether a create can be made ready before its transaction: no autonumber (it takes
    a counter row), no before-write hook and no validator (upper layers' code, which may
    read the database). Then the write lock is held for the statements alone."""
    return not (runtime.autonumbers or runtime.validators or runtime.plans.get(BEFORE_WRITE))


def _ready_insert(
    ctx: Context, runtime: ObjectRuntime, values: dict[str, Any], prefix: str = ""
) -> Ready:
    """Complete a create's cleaned `values` and compute its statement and audit event."""
    now = timezone.now()
    for name in runtime.autonumbers:
        field = runtime.fields[name]
        values[name] = field.type.format_number(
            field.definition, _next_number(ctx, runtime, name), now
        )
    values.setdefault("owner_id", ctx.user_id)
    for name, value in (
        ("created_at", now),
        ("updated_at", now),
        ("created_by", ctx.user_id),
        ("updated_by", ctx.user_id),
    ):
        if values.get(name) is None:
            values[name] = value
    for hook in runtime.plans.get(BEFORE_WRITE, ()):
        hook(ctx, runtime, "insert", values, None)
    if runtime.validators:
        hooks.validate(ctx, runtime, "insert", dict(values), None, prefix)
    record_id = values["id"] if "id" in values else runtime.model._meta.pk.get_default()
    plan = WritePlan.of(runtime)
    params = plan.params({"id": record_id, **values}) if plan.serves() else None
    event = audit.event(
        ctx,
        "create",
        object_name=runtime.name,
        record_id=record_id,
        changes=audit.diff(None, values, _redacted(runtime)),
    )
    return Ready(values, record_id, params, event)


def _insert(
    ctx: Context,
    runtime: ObjectRuntime,
    access: Access,
    data: Any,
    prefix: str = "",
    *,
    ready: Ready | None = None,
) -> Written:
    """Write one new record (`ready`: made ready by `_ready_insert` before the
    transaction; else it is made ready here, from `data`)."""
    if ready is None:
        values = _cleaned_insert(ctx, runtime, access, data, prefix)
        ready = _ready_insert(ctx, runtime, values, prefix)
    values, record_id = ready.values, ready.record_id
    _check_references(ctx, runtime, values, prefix)
    stored = None
    try:
        with transaction.atomic(savepoint=False):
            if ready.params is not None:
                stored = WritePlan.of(runtime).insert(ready.params)
            else:
                attributes = {runtime.attnames[name]: value for name, value in values.items()}
                attributes.setdefault(runtime.model._meta.pk.attname, record_id)
                runtime.model(**attributes).save(force_insert=True)
    except IntegrityError as error:
        raise _integrity(runtime, error, prefix) from None
    _enforce_check(runtime, access.insert_check, record_id)
    audit.append(ready.event)
    if hooks.wants(ctx, runtime, "created"):
        after = stored if stored is not None else {"id": record_id, **values}
        hooks.emit(ctx, runtime, "created", record_id, after, None)
    return Written(record_id, stored)


def _enforce_check(runtime: ObjectRuntime, check: Q | None, record_id: str) -> None:
    """Row-level security `check`: the written row must satisfy it (else all is undone)."""
    if check is None:
        return
    if not runtime.model._base_manager.filter(check, pk=record_id).exists():
        raise Forbidden(f"the {runtime.name} record would violate a row-level security check")


def _refused_by_table(runtime: ObjectRuntime, error: IntegrityError) -> bool:
    """Whether the object's own table refused a message that also held audit events
    (PostgreSQL names the table in the error's diagnostics); else an event was refused."""
    table = getattr(getattr(error.__cause__, "diag", None), "table_name", None)
    return table == runtime.model._meta.db_table


def _integrity(runtime: ObjectRuntime, error: IntegrityError, prefix: str) -> ValidationFailed:
    text = str(error).lower()
    for name, field in runtime.fields.items():
        if field.definition.unique and name in text:
            return ValidationFailed(
                "validation failed",
                fields=[
                    problem(prefix + name, "unique", f"another {runtime.name} has this {name}")
                ],
            )
    return ValidationFailed(f"the record violates a constraint: {error}")


def _needs_no_transaction(
    ctx: Context, runtime: ObjectRuntime, access: Access, ready: Ready
) -> bool:
    """Whether a create is its INSERT and its audit event alone, with nothing to do in
    between: written by its plan, and nothing reads the new row before the commit (no
    row-level check, nobody told). Such a create goes to PostgreSQL as one message with
    its event (apps/audit/linked.py) and, on SQLite, into a group's transaction
    (apps/objectql/grouped.py)."""
    return (
        ready.params is not None
        and access.insert_check is None
        and not hooks.wants(ctx, runtime, "created")
    )


def _insert_in_one_message(ctx: Context, runtime: ObjectRuntime, ready: Ready) -> Written:
    """INSERT the ready row and append its event in one round trip, one transaction."""
    _check_references(ctx, runtime, ready.values)
    plan = WritePlan.of(runtime)
    try:
        row = linked.write_with_append(plan.insert_sql, ready.params, ready.event)
    except IntegrityError as error:
        if not _refused_by_table(runtime, error):
            raise  # the audit event was refused: the server's failure, not the request's
        raise _integrity(runtime, error, "") from None
    return Written(ready.record_id, plan.stored(row))


def _insert_grouped(ctx: Context, runtime: ObjectRuntime, access: Access, ready: Ready) -> Written:
    """INSERT the ready row and append its event in a group's transaction; alone, in a
    transaction of its own, when the group failed."""
    _check_references(ctx, runtime, ready.values)
    plan = WritePlan.of(runtime)
    try:
        row = grouped.write(grouped.Create(plan.insert_sql, ready.params, ready.event))
    except IntegrityError as error:  # its own INSERT was refused, nothing else
        raise _integrity(runtime, error, "") from None
    if row is None:
        with write_transaction():
            return _insert(ctx, runtime, access, None, ready=ready)
    return Written(ready.record_id, plan.stored(row))


def create_record(ctx: Context, object_name: str, data: Any) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    values = _cleaned_insert(ctx, runtime, access, data)
    ready = _ready_insert(ctx, runtime, values) if _ready_alone(runtime) else None
    if ready is not None and _needs_no_transaction(ctx, runtime, access, ready):
        if linked.one_message():
            return _answer(ctx, runtime, access, _insert_in_one_message(ctx, runtime, ready))
        if grouped.available():
            return _answer(ctx, runtime, access, _insert_grouped(ctx, runtime, access, ready))
    with write_transaction():
        if ready is None:
            ready = _ready_insert(ctx, runtime, values)
        written = _insert(ctx, runtime, access, data, ready=ready)
    return _answer(ctx, runtime, access, written)


def _answer(ctx: Context, runtime: ObjectRuntime, access: Access, written: Written) -> dict:
    """The written record as a GET by the actor would return it, built from the row the
    write returned when that is the same thing; else read back."""
    record_id = str(written.id)
    if not access.can_read:
        return _id_only(runtime.name, record_id)
    row = written.row
    if row is not None:
        inside: bool | None = True
        if access.read_scope is not MATCH_ALL and written.moved:
            inside = scope_holds(access.read_scope, row)
        if inside is False:
            return _id_only(runtime.name, record_id)
        if inside:
            serializer = Serializer.for_request(
                ctx, runtime, access, selected_fields(runtime, access, QuerySpec(top=1)), []
            )
            if not serializer.summaries:  # summaries are subqueries: they need the database
                record = serializer.render([serializer.pick(row)])[0]
                return {"object": runtime.name, "id": record_id, "record": record}
    return _read_back(ctx, runtime.name, record_id)


def _id_only(object_name: str, record_id: str) -> dict[str, Any]:
    return {"object": object_name, "id": record_id, "record": {"id": record_id}}


def _read_back(ctx: Context, object_name: str, record_id: str) -> dict[str, Any]:
    """The written record as the actor reads it; the id alone when it may not read it
    (a create-only web form, or a write that moved the row out of the actor's scope)."""
    try:
        return get_record(ctx, object_name, record_id, QuerySpec(top=1))
    except (Forbidden, RecordNotFound):
        return _id_only(object_name, str(record_id))


def _locked_row(
    ctx: Context,
    runtime: ObjectRuntime,
    access: Access,
    record_id: str,
    columns: list[str],
    compiled: bool = False,
) -> dict[str, Any]:
    """The row by id inside the actor's read and write scopes, locked for the write.
    `compiled`: run the SQL compiled once for this actor and these columns."""

    def rows(pk: str) -> QuerySet:
        found = scoped(ctx, runtime, access).filter(pk=pk)
        if access.write_scope is not MATCH_ALL:
            found = found.filter(access.write_scope)
        return found.select_for_update().values(*columns)[:1]

    select = scoped_row(runtime, access, tuple(columns), rows) if compiled else None
    if select is not None:
        row = select.fetch(str(record_id))
    else:
        row = next(iter(rows(str(record_id))), None)
    if row is None:
        raise RecordNotFound(f"{runtime.name} '{record_id}' not found")
    return row


def _update(
    ctx: Context,
    runtime: ObjectRuntime,
    access: Access,
    record_id: str,
    data: Any,
    prefix: str = "",
    *,
    alone: bool = False,
) -> Written:
    """Update one record. `alone`: the only write of its transaction, whose UPDATE may
    then be held for the COMMIT's message (PostgreSQL, `linked.defer`) when nothing
    reads the row before the commit: no row-level check, nobody told."""
    if not access.can_edit:
        raise Forbidden(f"you may not edit {runtime.name}")
    values = clean_payload(
        runtime,
        access,
        data,
        creating=False,
        prefix=prefix,
        user_id=ctx.user_id,
        system=ctx.is_system,
    )
    values.pop("id", None)
    plan = WritePlan.of(runtime)
    serves = plan.serves()
    announce = hooks.wants(ctx, runtime, "updated")
    # With a plan, the locked read takes the whole returned row: an unchanged update is
    # then answered from it, as a changed one is from the UPDATE's RETURNING. Validators
    # and events need the whole row too.
    columns = ["id", *values]
    before_write = runtime.plans.get(BEFORE_WRITE, ())
    if serves or announce or runtime.validators or before_write:
        columns = list(dict.fromkeys([*columns, *runtime.read_columns]))
    before = _locked_row(ctx, runtime, access, record_id, columns, compiled=serves)
    for hook in before_write:
        hook(ctx, runtime, "update", values, dict(before))
    _check_references(ctx, runtime, values, prefix)
    if runtime.validators:
        hooks.validate(ctx, runtime, "update", {**before, **values}, dict(before), prefix)
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    if not changed:
        return Written(before["id"], before if serves else None, moved=False)
    assignments = {"updated_at": timezone.now(), "updated_by": ctx.user_id, **changed}
    stored = None
    deferred = None
    if alone and serves and access.update_check is None and not announce:
        deferred = linked.defer(*plan.update_statement(before["id"], assignments))
    if deferred is None:
        try:
            with transaction.atomic(savepoint=False):
                if serves:
                    stored = plan.update(before["id"], assignments)
                else:
                    runtime.model._base_manager.filter(pk=before["id"]).update(**assignments)
        except IntegrityError as error:
            raise _integrity(runtime, error, prefix) from None
    _enforce_check(runtime, access.update_check, before["id"])
    # Stored files the update dropped from media fields: deleted after the commit.
    filestore.delete_dropped_files_after_commit(ctx, runtime, before, changed)
    audit.record(
        ctx,
        "update",
        object_name=runtime.name,
        record_id=before["id"],
        changes=audit.diff({k: before.get(k) for k in changed}, changed, _redacted(runtime)),
    )
    if announce:
        after = stored if stored is not None else {**before, **assignments}
        hooks.emit(ctx, runtime, "updated", before["id"], after, before)
    watched = scope_columns(access.read_scope) if access.read_scope is not MATCH_ALL else set()
    moved = watched is None or not watched.isdisjoint(assignments)
    return Written(before["id"], stored, moved=moved, deferred=deferred)


def update_record(ctx: Context, object_name: str, record_id: str, data: Any) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    try:
        with write_transaction():
            written = _update(ctx, runtime, access, record_id, data, alone=True)
    except IntegrityError as error:  # raised by the COMMIT's message
        if not _refused_by_table(runtime, error):
            raise  # the audit event was refused: the server's failure, not the request's
        raise _integrity(runtime, error, "") from None
    if written.deferred is not None and written.deferred.row is not None:
        written.row = WritePlan.of(runtime).stored(written.deferred.row)
    written.id = record_id  # answered under the id asked for, as a GET would
    return _answer(ctx, runtime, access, written)


def _delete(ctx: Context, runtime: ObjectRuntime, access: Access, record_id: str) -> None:
    if not access.can_delete:
        raise Forbidden(f"you may not delete {runtime.name}")
    before = _locked_row(ctx, runtime, access, record_id, list(runtime.read_columns))
    instance = runtime.model._base_manager.get(pk=before["id"])
    cascaded: list = []
    try:
        with transaction.atomic(savepoint=False):
            # Stored files of the record and its cascade: deleted after the commit.
            filestore.delete_record_files_after_commit(ctx, runtime, instance)
            if hooks.cascade_wanted(ctx, runtime):
                per_model, cascaded = hooks.delete_collecting(ctx, runtime, instance)
            else:
                _, per_model = instance.delete()
    except (RestrictedError, ProtectedError) as error:
        blockers = (
            sorted({obj._meta.object_name for obj in error.args[1]}) if len(error.args) > 1 else []
        )
        raise Conflict(
            f"{runtime.name} '{record_id}' is still referenced by "
            f"{', '.join(blockers) or 'other records'}"
        ) from None
    counts = {
        label.rsplit(".", 1)[-1]: n
        for label, n in per_model.items()
        if n and label.rsplit(".", 1)[-1] != runtime.name
    }
    audit.record(
        ctx,
        "delete",
        object_name=runtime.name,
        record_id=before["id"],
        changes=audit.diff(before, None, _redacted(runtime)),
        details={"cascaded": counts} if counts else None,
    )
    if hooks.wants(ctx, runtime, "deleted"):
        hooks.emit(ctx, runtime, "deleted", before["id"], None, before)
    for child, row in cascaded:
        if hooks.wants(ctx, child, "deleted"):
            hooks.emit(ctx, child, "deleted", row["id"], None, row)


def delete_record(ctx: Context, object_name: str, record_id: str) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    with write_transaction():
        _delete(ctx, runtime, access, record_id)
    return {"object": object_name, "id": str(record_id), "success": True}


def _batch_items(items: Any, what: str) -> list[Any]:
    if not isinstance(items, list):
        raise ValidationFailed(f"{what} must be a JSON array")
    if len(items) > settings.OS_MAX_BATCH_SIZE:
        raise ValidationFailed(f"a batch holds at most {settings.OS_MAX_BATCH_SIZE} {what}")
    return items


def create_many(ctx: Context, object_name: str, records: Any) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    items = _batch_items(records, "records")
    with write_transaction():
        ids = [
            _insert(ctx, runtime, access, item, prefix=f"records[{i}].").id
            for i, item in enumerate(items)
        ]
    return _many(ctx, runtime, ids)


def update_many(ctx: Context, object_name: str, records: Any) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    items = _batch_items(records, "records")
    ids = []
    with write_transaction():
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise ValidationFailed(
                    "validation failed",
                    fields=[problem(f"records[{i}].id", "required", "each record needs its id")],
                )
            _update(ctx, runtime, access, item["id"], item, prefix=f"records[{i}].")
            ids.append(item["id"])
    return _many(ctx, runtime, ids)


def delete_many(ctx: Context, object_name: str, ids: Any) -> dict[str, Any]:
    runtime = _runtime(ctx, object_name)
    access = object_access(ctx, runtime)
    items = _batch_items(ids, "ids")
    if not all(isinstance(i, str) for i in items):
        raise ValidationFailed("ids must be strings", field="ids")
    with write_transaction():
        for record_id in items:
            _delete(ctx, runtime, access, record_id)
    return {"object": object_name, "ids": items, "success": True, "count": len(items)}


def _many(ctx: Context, runtime: ObjectRuntime, ids: list[str]) -> dict[str, Any]:
    from apps.objectql.query import list_records

    if not ids:
        return {"object": runtime.name, "records": [], "count": 0}
    records = {}
    if object_access(ctx, runtime).can_read:
        spec = QuerySpec(top=len(ids), filters=[{"id": {"$in": ids}}], count=False)
        records = {r["id"]: r for r in list_records(ctx, runtime.name, spec)["records"]}
    return {
        "object": runtime.name,
        "records": [records.get(i, {"id": i}) for i in ids],  # the id alone when unreadable
        "count": len(ids),
    }
