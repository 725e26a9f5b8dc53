"""Structured logs: one JSON object per line, each carrying the id of its request.

`RequestIdFilter` (on the handler, see settings LOGGING) gives every record logged while
a request is served its `request_id` (apps.projects.context.current_request_id; Django's
own `django.request` records carry the request itself). `JsonFormatter` writes time,
level, logger, message, the request fields the request log line adds (project, user_id,
method, path, route, status, duration_ms) and the exception, if any.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from apps.projects.context import current_context, current_request_id

# Attributes copied from a record into its JSON line when set (`extra=` of the call).
REQUEST_FIELDS = (
    "request_id",
    "context",  # the context tree id (`<request id>.2.1`) of a service call or delivery
    "project",
    "user_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records that lack it; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is None:
                request_id = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id
        if getattr(record, "context", None) is None:
            ctx = current_context.get()
            if ctx is not None and ctx.context_id != ctx.request_id:
                record.context = ctx.context_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (orjson; values it cannot encode are written as text)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()
