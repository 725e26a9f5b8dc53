"""Field resolver for the rule compiler: API names -> ORM lookups, honouring field access."""

from __future__ import annotations

from django.db.models import Q

from apps.artifact.models import Field
from apps.fieldtypes.registry import get_type
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.security.rules import ResolvedField
from apps.security.rules.exceptions import UnknownField

SYSTEM_FIELD_DEFS: dict[str, Field] = {
    "id": Field(name="id", type="text"),
    "owner_id": Field(name="owner_id", type="user"),
    "created_by": Field(name="created_by", type="user"),
    "updated_by": Field(name="updated_by", type="user"),
    "created_at": Field(name="created_at", type="datetime"),
    "updated_at": Field(name="updated_at", type="datetime"),
}
_SYSTEM_RESOLVED = {
    name: ResolvedField(lookup=name, field=definition, fieldtype=get_type(definition.type))
    for name, definition in SYSTEM_FIELD_DEFS.items()
}


class ObjectResolver:
    """Resolves `field` and `lookup.field` paths of one object for filters and sorts.

    Only fields in `readable` resolve: an unreadable field behaves as if it did not
    exist, so no value can be guessed through filters. A path through a lookup carries a
    guard (`scope_of`): related rows outside the actor's read scope match no condition.
    """

    def __init__(
        self,
        kernel: Kernel,
        runtime: ObjectRuntime,
        readable: frozenset[str],
        readable_of=None,
        scope_of=None,
    ) -> None:
        self.kernel = kernel
        self.runtime = runtime
        self.readable = readable
        # callable(target ObjectRuntime) -> readable set, for dotted paths through lookups
        self.readable_of = readable_of
        # callable(target ObjectRuntime) -> the actor's read scope (Q) or None for every row
        self.scope_of = scope_of

    def resolve(self, path: str) -> ResolvedField:
        if not isinstance(path, str) or not path:
            raise UnknownField(str(path))
        head, _, rest = path.partition(".")
        if head in _SYSTEM_RESOLVED and not rest:
            return _SYSTEM_RESOLVED[head]
        runtime = self.runtime.fields.get(head)
        if runtime is None or head not in self.readable or not runtime.stored:
            raise UnknownField(path)
        if not rest:
            return ResolvedField(lookup=head, field=runtime.definition, fieldtype=runtime.type)
        if runtime.target is None or runtime.definition.multiple or "." in rest:
            raise UnknownField(path)
        target = self.kernel.object(runtime.target)
        readable = self.readable_of(target) if self.readable_of else frozenset(target.fields)
        try:
            inner = ObjectResolver(self.kernel, target, readable).resolve(rest)
        except UnknownField:
            raise UnknownField(path) from None
        scope = self.scope_of(target) if self.scope_of else None
        guard = None
        if scope is not None:  # a related row the actor may not read matches nothing
            rows = target.model._base_manager.filter(scope).values("pk")
            guard = Q(**{f"{head}__isnull": True}) | Q(**{f"{head}__in": rows})
        return ResolvedField(
            lookup=f"{head}__{inner.lookup}",
            field=inner.field,
            fieldtype=inner.fieldtype,
            guard=guard,
        )
