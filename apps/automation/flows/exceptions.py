"""Errors of the flow engine; apps.api maps them to HTTP (status, code) in apps.api.automation."""

from __future__ import annotations

from typing import Any


class FlowError(Exception):
    """Base: `status` and `code` give the HTTP answer, the message is for people."""

    status = 400
    code = "FLOW_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.field is not None:
            body["field"] = self.field
        return body


class FlowNotFound(FlowError):
    status = 404
    code = "FLOW_NOT_FOUND"


class RunNotFound(FlowError):
    status = 404
    code = "NOT_FOUND"


class InvalidFlow(FlowError):
    """The flow definition cannot be run (unknown node type, dangling edge, no start)."""

    code = "INVALID_FLOW"


class InvalidResume(FlowError):
    code = "VALIDATION_FAILED"


class RunNotWaiting(FlowError):
    status = 409
    code = "CONFLICT"


class NotAnApprover(FlowError):
    status = 403
    code = "FORBIDDEN"


class NodeFailed(FlowError):
    """A node could not do its work; the run is recorded as failed with this message."""

    code = "NODE_FAILED"


class HttpRefused(NodeFailed):
    """The http node's guard refused the address (loopback, private, link-local, ...)."""

    code = "HTTP_REFUSED"
