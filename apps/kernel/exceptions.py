"""Errors raised while building or using a kernel."""


class KernelError(Exception):
    """A kernel could not be built from its artifact."""


class ObjectNotFound(LookupError):
    """The kernel has no object of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"object '{name}' not found")
        self.name = name


class NoPublishedVersion(LookupError):
    """The project has no published artifact version yet."""
