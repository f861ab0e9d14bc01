"""Errors of the audit, each with a message for a person (the CLI prints it; exit 2)."""

from __future__ import annotations


class AuditError(Exception):
    """The audit cannot run or cannot finish: AWS refused, no credentials, unreachable endpoint."""


class AuditUsageError(AuditError):
    """Bad command-line input: a date, an S3 URI, a table name, a policy config."""


class ReadOnlyViolation(AuditError):
    """Raised before any request that would read a secret value leaves the process."""
