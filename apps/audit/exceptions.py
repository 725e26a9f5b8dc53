"""Errors of the audit app; apps.api maps each to one HTTP status and wire code."""

from __future__ import annotations


class InvalidAuditQuery(Exception):
    """A parameter of an audit trail query cannot be read (400 INVALID_QUERY)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
