"""A module listed as a plugin that has no register(kernel)."""

VERSION = 1
