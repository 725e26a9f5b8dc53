"""Errors of the flow engine. They extend objectql's errors so the API maps them to HTTP in
its one place (apps.api.errors), as the jobs and actions errors do."""

from __future__ import annotations

from apps.objectql.exceptions import ObjectQLError


class FlowError(ObjectQLError):
    """Base: `status` and `code` give the HTTP answer, the message is for people."""

    code = "FLOW_ERROR"


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
