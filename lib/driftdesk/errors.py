"""Errors a user can act on. Every message names what is wrong and where."""

from __future__ import annotations


class DriftdeskError(ValueError):
    """Bad input or an impossible request; the CLI maps it to exit code 2 with the message on stderr."""


class ContractError(DriftdeskError):
    """A table breaks the data contract (missing role, wrong type, bad timestamp, duplicates, range)."""

    def __init__(self, message: str, violations: list | None = None):
        super().__init__(message)
        self.violations = list(violations or [])


class InputFileError(DriftdeskError):
    """A file cannot be read: missing, empty, unknown extension, unreadable CSV."""


class WindowError(DriftdeskError):
    """A window is malformed, empty or outside the data."""


class PolicyError(DriftdeskError):
    """A gate policy file or form is invalid."""


class NothingToGateError(DriftdeskError):
    """The data has no table or column a starter gate can watch, so no gate policy can be made for it."""


class ReleaseError(DriftdeskError):
    """A release manifest or the releases table is invalid, or a release id is unknown."""


class TrackingError(DriftdeskError):
    """The MLflow tracking or registry store cannot be reached or refused a request."""


class LimitError(DriftdeskError):
    """A size the user controls is beyond its bound (driftdesk.bounds); the message names the bound."""


class PathError(DriftdeskError):
    """A name that becomes a path would leave its folder, or a data folder is outside the folders allowed."""
