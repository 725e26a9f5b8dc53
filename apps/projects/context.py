"""The explicit request context that travels from the middleware to objectql, audit and jobs."""

from __future__ import annotations

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
