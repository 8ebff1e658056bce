"""Exceptions for faults of the caller or the environment, never for faults in grid data.

Faults in a user's CIM data are :class:`cimflow.findings.Finding` values, returned, not raised.
The exception tree::

    CimflowError
    ├── ConfigError        bad arguments or configuration (exit code 2)
    ├── InputError         a path that cannot be opened at all (exit code 2)
    ├── InternalError      a broken invariant: a bug in cimflow
    └── ValidationFailed   raised on request by ``assert_valid`` (carries the report)
"""

from __future__ import annotations


class CimflowError(Exception):
    """Base class of every exception cimflow raises on purpose."""


class ConfigError(CimflowError):
    """A configuration value or command-line argument is invalid."""


class InputError(CimflowError):
    """An input path cannot be used at all (missing, not a file or folder)."""


class InternalError(CimflowError):
    """An invariant of cimflow itself is broken; please report it."""


class ValidationFailed(CimflowError):
    """Raised by ``assert_valid`` when findings reach the requested severity."""

    def __init__(self, message: str, findings: tuple[object, ...]) -> None:
        super().__init__(message)
        self.findings = findings
