"""Errors of the ops app: each message is one line an operator can act on."""

from __future__ import annotations


class OpsError(Exception):
    """An operation was refused or failed; `str(error)` is one line for the operator."""


class SnapshotError(OpsError):
    """A snapshot cannot be found or read (missing manifest, unknown name, bad location)."""


class SnapshotCorrupted(SnapshotError):
    """A snapshot's dump does not match the checksum in its manifest."""


class ServerRunning(OpsError):
    """A server (web or worker) uses the database a restore would replace."""


class BackupFailed(OpsError):
    """The dump could not be taken (a tool failed, the database is not a file, ...)."""


class RestoreFailed(OpsError):
    """The dump could not be put back; the database is left as it was where possible."""


class VerifyFailed(OpsError):
    """The first problem `verify` found."""


class BootConfigError(OpsError):
    """The boot-mode variables contradict each other or are incomplete (apps.ops.boot)."""


class ControlPlaneError(OpsError):
    """The control plane could not be reached or gave an answer that cannot be used."""


class ControlPlaneRefused(ControlPlaneError):
    """The control plane refused this instance's key (401 or 403)."""
