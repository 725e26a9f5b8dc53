"""Errors of the jobs layer. They extend objectql's errors so the API maps them to HTTP in
its one place (apps.api.errors) without this app knowing about HTTP."""

from __future__ import annotations

from apps.objectql.exceptions import Conflict, ObjectQLError, RecordNotFound


class InvalidJob(ObjectQLError):
    """A submission that cannot run: bad target, unknown function, arguments not JSON."""

    code = "VALIDATION_FAILED"


class JobNotFound(RecordNotFound):
    pass


class JobNotRetryable(Conflict):
    pass
