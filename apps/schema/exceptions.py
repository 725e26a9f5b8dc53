"""Errors of the schema workflow."""


class SchemaError(Exception):
    """A schema operation that cannot go ahead, with a one-line reason."""


class ApprovalRequired(SchemaError):
    """The plan needs an explicit approval it has not been given (destructive operations)."""
