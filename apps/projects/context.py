"""The explicit request context that travels from the middleware to objectql, audit and jobs.

Contexts form a tree: a request opens the root (its id is the request id) and every
service call and event delivery runs in a child, `ctx.fork()`, whose id names the chain
(`9f0c.2.1` is the first child of the second child of request `9f0c`). A context may
carry budgets (apps.kernel.budgets): a child counts against its own and all of its
ancestors' budgets, so a budget set on a child limits only that branch.
"""

from __future__ import annotations

import itertools
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(candidate: str | None = None) -> str:
    """The client's X-Request-Id when it is safe to log, else a fresh one."""
    if candidate and _REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


@dataclass
class Context:
    """Who does what, where: project, kernel, actor and request metadata.

    `kernel` is typed loosely because apps.projects sits below apps.kernel.
    """

    request_id: str
    project_id: int | None = None
    project_name: str = ""
    kernel: Any = None  # apps.kernel.kernel.Kernel
    user: Any = None  # django.contrib.auth user or None for system
    api_key_id: int | None = None
    ip: str = ""
    user_agent: str = ""
    is_system: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # The id in the context tree: the request id for a root, `<parent id>.<n>` for a child.
    context_id: str = ""
    # Budgets of this context and its ancestors, root first (apps.kernel.budgets.Budget).
    budgets: tuple[Any, ...] = ()
    parent: Context | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.context_id:
            self.context_id = self.request_id

    def fork(self, *, budget: Any = None, **changes: Any) -> Context:
        """A child context (`<id>.<n>`): same request, project, kernel and actor unless
        `changes` say otherwise; `budget` limits the child's branch only."""
        counter = self.__dict__.get("_children")
        if counter is None:
            counter = self.__dict__.setdefault("_children", itertools.count(1))
        values = {
            name: getattr(self, name)
            for name in (
                "request_id", "project_id", "project_name", "kernel", "user", "api_key_id",
                "ip", "user_agent", "is_system",
            )
        }  # fmt: skip
        values.update(changes)
        context_id = f"{self.context_id}.{next(counter)}"
        if budget is not None and not budget.context_id:
            budget.context_id = context_id  # named in its errors
        return Context(
            **values,
            extra=dict(self.extra),
            context_id=context_id,
            budgets=self.budgets if budget is None else (*self.budgets, budget),
            parent=self,
        )

    def call(self, name: str, payload: Any = None, *, budget: Any = None) -> Any:
        """Call the kernel service `name` in a child context (apps.kernel.services);
        `budget` (apps.kernel.budgets.Budget) limits that call's branch only."""
        if self.kernel is None:
            raise LookupError(f"context {self.context_id} has no kernel to call '{name}' on")
        return self.kernel.call(self, name, payload, budget=budget)

    @property
    def user_id(self) -> int | None:
        user = self.user
        return user.pk if user is not None and user.is_authenticated else None

    @property
    def is_superuser(self) -> bool:
        return self.is_system or bool(getattr(self.user, "is_superuser", False))


current_context: ContextVar[Context | None] = ContextVar("objectos_context", default=None)
# The id of the request being served by this thread or task (set by the request middleware),
# so that every log record written meanwhile can carry it (apps.ops.logging).
current_request_id: ContextVar[str | None] = ContextVar("objectos_request_id", default=None)
