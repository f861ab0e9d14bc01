"""What an audit found: findings, per-secret status rows, access summaries.

Plain frozen dataclasses; reporters (secrets_layout.reports.audit) render them. Nothing here
ever holds a secret value: the audit never reads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Finding kinds are part of the report's contract (JSON consumers filter on them).
ROTATION_DISABLED = "rotation-disabled"
ROTATION_UNEXPECTED = "rotation-unexpected"
ROTATION_NEVER = "rotation-never-rotated"
ROTATION_OVERDUE = "rotation-overdue"
ROTATION_STUCK = "rotation-stuck"
ROTATION_FAILED = "rotation-failed"
ROTATION_SCHEDULE_DRIFT = "rotation-schedule-drift"
ROTATION_UNTESTED_BELOW = "rotation-untested-below"
SECRET_UNDECLARED = "secret-undeclared"
SECRET_MISSING = "secret-missing"
SECRET_PENDING_DELETION = "secret-pending-deletion"
POLICY_DRIFT = "policy-drift"
KEY_DRIFT = "key-drift"
REPLICA_MISSING = "replica-missing"
REPLICA_UNEXPECTED = "replica-unexpected"
REPLICA_KEY_DRIFT = "replica-key-drift"
REPLICA_NOT_IN_SYNC = "replica-not-in-sync"
TAGS_DRIFT = "tags-drift"
SECRET_UNREAD = "secret-unread"
ACCESS_DENIED = "access-denied"

FINDING_KINDS = (
    ROTATION_DISABLED, ROTATION_UNEXPECTED, ROTATION_NEVER, ROTATION_OVERDUE, ROTATION_STUCK, ROTATION_FAILED,
    ROTATION_SCHEDULE_DRIFT, ROTATION_UNTESTED_BELOW, SECRET_UNDECLARED, SECRET_MISSING, SECRET_PENDING_DELETION, POLICY_DRIFT, KEY_DRIFT,
    REPLICA_MISSING, REPLICA_UNEXPECTED, REPLICA_KEY_DRIFT, REPLICA_NOT_IN_SYNC, TAGS_DRIFT, SECRET_UNREAD,
    ACCESS_DENIED,
)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: which secret, where, what kind, and a message saying what, why and the fix."""

    secret: str
    region: str
    kind: str
    message: str


@dataclass(frozen=True)
class SecretStatus:
    """Rotation discipline and usage of one secret as AWS reports it (dates in UTC)."""

    name: str
    region: str
    declared: bool
    rotation_enabled: bool
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    last_accessed: datetime | None = None
    stuck: bool = False
    last_failure: datetime | None = None
    last_failure_message: str | None = None


@dataclass(frozen=True)
class AccessEvent:
    """One Secrets Manager read (or attempted read) of one secret from CloudTrail; never carries a value.

    AWS's CloudTrail record fields: eventID, userIdentity, eventName, errorCode, awsRegion,
    requestParameters.secretId (the name or ARN the caller passed).
    """

    time: datetime
    event_name: str
    secret: str
    region: str
    principal: str
    account: str
    error_code: str | None = None
    refused_by_kms: bool = False
    """The record itself says KMS refused (DecryptionFailure, or a message naming KMS)."""
    event_id: str | None = None
    """CloudTrail's unique ID of the event: the same event seen by two sources counts once."""

    @property
    def failed(self) -> bool:
        return bool(self.error_code)

    @property
    def denied(self) -> bool:
        return self.refused_by_kms or "AccessDenied" in (self.error_code or "")


@dataclass(frozen=True)
class KmsDenial:
    """A kms:Decrypt refused to `principal` for the secret named in its encryption context (SecretARN)."""

    time: datetime
    secret_arn: str
    region: str
    principal: str


@dataclass(frozen=True)
class PrincipalAccess:
    """Reads of one secret by one principal in the period: successful ones and failed attempts apart."""

    secret: str
    account: str
    principal: str
    reads: int
    last_read: datetime | None
    failed: int
    """Attempts that failed, whatever the error code."""
    last_failed: datetime | None
    errors: tuple[tuple[str, int], ...] = ()
    """(error code, attempts) of the failed ones, by code."""
    denied: int = 0
    """Failed attempts that were refusals (AccessDenied*, or refused by KMS)."""
    denied_by_kms: int = 0
    last_denied: datetime | None = None


@dataclass(frozen=True)
class UnavailableSource:
    """An access history source that could not be read: what, why, and how to run without it."""

    source: str
    reason: str
    skip: str


@dataclass(frozen=True)
class AuditReport:
    environment: str
    security_account: str
    regions: tuple[str, ...]
    since: datetime
    until: datetime
    generated_at: datetime
    maximum_rotation_days: int
    unread_days: int
    statuses: tuple[SecretStatus, ...]
    findings: tuple[Finding, ...]
    access: tuple[PrincipalAccess, ...] = ()
    access_sources: tuple[str, ...] = ()
    unavailable_sources: tuple[UnavailableSource, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def compliant(self) -> bool:
        return not self.findings
