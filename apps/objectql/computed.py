"""Computed fields: summaries as SQL subqueries, formulas evaluated on read (compiled CEL)."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Avg,
    Count,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.security.rules import compile_cel, compile_filter
from apps.security.rules.exceptions import RuleError

AGGREGATES = {"sum": Sum, "min": Min, "max": Max, "avg": Avg, "count": Count}


def summary_annotations(kernel: Kernel, runtime: ObjectRuntime, names: list[str]) -> dict:
    """Subquery expressions for the summary fields among `names`."""
    from apps.security.schema_resolver import ObjectResolver

    annotations = {}
    for name in names:
        definition = runtime.fields[name].definition
        if definition.type != "summary" or definition.summary_operations is None:
            continue
        operation = definition.summary_operations
        child = kernel.objects.get(operation.object)
        link = next(
            (f for c, f in kernel.children.get(runtime.name, []) if c == operation.object), None
        )
        if child is None or link is None:
            continue
        rows = child.model._base_manager.filter(**{link: OuterRef("pk")})
        if operation.filter:
            try:
                resolver = ObjectResolver(kernel, child, frozenset(child.fields))
                rows = rows.filter(compile_filter(operation.filter, resolver))
            except RuleError:
                rows = rows.filter(Q(pk__in=[]))
        aggregate = AGGREGATES[operation.function]
        column = "pk" if operation.function == "count" or not operation.field else operation.field
        if operation.function == "count":
            output = IntegerField()
        elif operation.function == "avg":
            output = FloatField()
        else:
            output = child.model._meta.get_field(column).clone()
        expression = rows.values(link).annotate(result=aggregate(column, output_field=output))
        subquery = Subquery(expression.values("result")[:1], output_field=output)
        if operation.function in ("count", "sum"):
            annotations[name] = Coalesce(subquery, Value(0), output_field=output)
        else:
            annotations[name] = subquery
    return annotations


def formula_programs(runtime: ObjectRuntime) -> dict[str, Any]:
    """Compiled CEL programs per formula field (None when the expression does not compile)."""
    programs = {}
    for name in runtime.computed:
        definition = runtime.fields[name].definition
        if definition.type == "formula" and definition.expression is not None:
            try:
                programs[name] = compile_cel(definition.expression.source)
            except RuleError:
                programs[name] = None
    return programs


def evaluate_formulas(programs: dict[str, Any], record: dict[str, Any]) -> None:
    """Adds each formula's value to `record` in place; an error yields None."""
    activation = {"record": record}
    for name, program in programs.items():
        if program is None:
            record[name] = None
            continue
        try:
            record[name] = program.evaluate(activation)
        except Exception:  # noqa: BLE001 - a formula error must not break a read
            record[name] = None
