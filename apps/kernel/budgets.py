"""Budgets of a context branch: SQL queries, wall time, rows read.

A Budget rides on a Context (`ctx.budgets`, root first). The request middleware
(apps.kernel.middleware) gives each request a root budget from the project's defaults;
`ctx.fork(budget=Budget(max_queries=50))` limits one branch more tightly. A query counts
against every budget of the active chain, so a child spends its parent's budget too.

Exceeding a limit raises BudgetExceeded in the branch that did it: the query is not run,
the branch's transaction rolls back as the exception unwinds, and the API answers 429
(queries, rows) or 503 (seconds) with code BUDGET_EXCEEDED naming the budget. Other
requests are untouched: budgets are per context, counted per thread (contextvars).

Costs nothing when off: a request without limits installs no execute wrapper and its
contexts carry an empty tuple. Wall time is checked at every query, service call, fork
activation and objectql read; Python code that neither queries nor calls is not stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from apps.projects.context import Context, current_context

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
# The budgets counting the queries of this thread or task right now (root first).
active_budgets: ContextVar[tuple[Budget, ...]] = ContextVar("objectos_budgets", default=())


class BudgetExceeded(Exception):
    """A branch spent one of its budgets. `budget` is queries, seconds or rows."""

    code = BUDGET_EXCEEDED

    def __init__(self, budget: str, limit: float, used: float, context_id: str, owner: Budget):
        what = {"queries": "SQL queries", "seconds": "seconds", "rows": "rows read"}[budget]
        super().__init__(
            f"budget exceeded: more than {limit:g} {what} in context {context_id} "
            f"(limit set on {owner.context_id or 'its branch'})"
        )
        self.budget = budget
        self.limit = limit
        self.used = used
        self.context_id = context_id
        self.owner = owner

    @property
    def status(self) -> int:
        """429 when the branch asked for too much, 503 when it ran out of time."""
        return 503 if self.budget == "seconds" else 429

    def body(self) -> dict[str, Any]:
        limit: float = int(self.limit) if float(self.limit).is_integer() else self.limit
        return {
            "error": str(self),
            "code": BUDGET_EXCEEDED,
            "budget": self.budget,
            "limit": limit,
            "context": self.context_id,
        }


@dataclass
class Budget:
    """Limits (0 = no limit) and what was spent. Set on one context, charged by its branch."""

    max_queries: int = 0
    max_seconds: float = 0.0
    max_rows: int = 0
    context_id: str = ""  # the context the budget was set on (for messages)
    queries: int = 0
    rows: int = 0
    started: float = field(default_factory=time.monotonic)
    # Set once the exhaustion was reported to the client: the request may then finish
    # its own bookkeeping (session, logs) without being refused again.
    released: bool = False

    @property
    def limits_queries(self) -> bool:
        """Whether queries must be watched (to count them, or to check the clock)."""
        return bool(self.max_queries or self.max_seconds)

    def charge_query(self) -> None:
        if self.released:
            return
        if self.max_queries:
            self.queries += 1
            if self.queries > self.max_queries:
                self._exceeded("queries", self.max_queries, self.queries)
        if self.max_seconds:
            self.check_time()

    def charge_rows(self, count: int) -> None:
        if self.released or not self.max_rows:
            return
        self.rows += count
        if self.rows > self.max_rows:
            self._exceeded("rows", self.max_rows, self.rows)

    def check_time(self) -> None:
        if self.max_seconds and not self.released:
            spent = time.monotonic() - self.started
            if spent > self.max_seconds:
                self._exceeded("seconds", self.max_seconds, round(spent, 3))

    def release(self) -> None:
        self.released = True

    def _exceeded(self, budget: str, limit: float, used: float) -> None:
        ctx = current_context.get()
        where = ctx.context_id if ctx is not None else self.context_id
        raise BudgetExceeded(budget, limit, used, where, self)


def _count_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """connection.execute_wrapper: charge the active budgets, refuse an over-budget query."""
    for budget in active_budgets.get():
        budget.charge_query()
    return execute(sql, params, many, context)


@contextmanager
def watching(budgets: tuple[Budget, ...]) -> Iterator[None]:
    """Make `budgets` the active chain of this thread; count queries while any limits
    queries or time (one execute wrapper per connection, installed only then)."""
    token = active_budgets.set(budgets)
    try:
        for budget in budgets:
            budget.check_time()
        connection = connections[DEFAULT_DB_ALIAS]
        if any(b.limits_queries for b in budgets) and _count_query not in (
            connection.execute_wrappers
        ):
            with connection.execute_wrapper(_count_query):
                yield
        else:
            yield
    finally:
        active_budgets.reset(token)


@contextmanager
def activate(ctx: Context) -> Iterator[Context]:
    """Run a block in `ctx`: it becomes the current context (logs name it) and its
    budget chain the active one."""
    token = current_context.set(ctx)
    try:
        if ctx.budgets or active_budgets.get():
            with watching(ctx.budgets):
                yield ctx
        else:
            yield ctx
    finally:
        current_context.reset(token)


def charge_rows(ctx: Context, count: int) -> None:
    """Rows an objectql read returned, charged to the context's budgets."""
    for budget in ctx.budgets:
        budget.charge_rows(count)
        budget.check_time()


def project_budget(project_name: str, context_id: str = "") -> Budget | None:
    """A fresh root budget from OS_BUDGET_MAX_* and the project's OS_PROJECT_BUDGETS
    entry (`{"crm": {"queries": 500, "seconds": 10, "rows": 50000}}`); None when off."""
    override = settings.OS_PROJECT_BUDGETS.get(project_name) or {}
    queries = int(override.get("queries", settings.OS_BUDGET_MAX_QUERIES) or 0)
    seconds = float(override.get("seconds", settings.OS_BUDGET_MAX_SECONDS) or 0)
    rows = int(override.get("rows", settings.OS_BUDGET_MAX_ROWS) or 0)
    if not (queries or seconds or rows):
        return None
    return Budget(queries, seconds, rows, context_id=context_id)
