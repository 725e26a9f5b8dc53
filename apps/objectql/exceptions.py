"""Errors of the data layer; apps.api maps each to one HTTP status and wire code."""

from __future__ import annotations

from typing import Any


class ObjectQLError(Exception):
    """Base: `status` and `code` decide the HTTP answer, `message` is for people."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self, message: str, *, field: str | None = None, fields: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.fields = fields

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.field is not None:
            body["field"] = self.field
        if self.fields is not None:
            body["fields"] = self.fields
        return body


class InvalidField(ObjectQLError):
    code = "INVALID_FIELD"


class InvalidQuery(ObjectQLError):
    code = "INVALID_QUERY"


class ValidationFailed(ObjectQLError):
    code = "VALIDATION_FAILED"


class RecordNotFound(ObjectQLError):
    status = 404
    code = "NOT_FOUND"


class Forbidden(ObjectQLError):
    status = 403
    code = "FORBIDDEN"


class Conflict(ObjectQLError):
    status = 409
    code = "CONFLICT"
