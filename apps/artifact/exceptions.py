"""Errors of the artifact app: `ArtifactInvalid` carries every issue found, one per line."""

from __future__ import annotations

from collections.abc import Iterable

from apps.artifact.issues import Issue


class ArtifactError(Exception):
    """Base of the artifact app's errors."""


class ArtifactInvalid(ArtifactError):
    """The artifact cannot be served; `issues` lists every problem with its JSON path."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    def __repr__(self) -> str:
        return f"ArtifactInvalid({len(self.issues)} issue(s))"
