"""What a rotation drill found, per secret: plain frozen dataclasses the reporters render
(secrets_layout.reports.rotate). Nothing here ever holds a secret value: the drill never reads one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Outcome(str, Enum):
    """Part of the report's contract (JSON consumers filter on it)."""

    SUCCEEDED = "succeeded"
    """AWSCURRENT moved to the new version and every replica holds it."""
    FAILED = "failed"
    """The rotation (or a replica) failed: the reason says where."""
    NOT_FINISHED = "not-finished"
    """--wait elapsed first; AWS goes on with the rotation."""
    ALREADY_ROTATING = "already-rotating"
    """A rotation was in progress: reported, not started again."""
    NOT_STARTED = "not-started"
    """The secret could not be rotated (missing, rotation off, RotateSecret refused)."""


@dataclass(frozen=True)
class ReplicaState:
    """One replica after the rotation, from the primary's ReplicationStatus and the replica's own labels."""

    region: str
    status: str
    """ReplicationStatus[].Status: InSync, InProgress, Pending, Failed, Detached (or `unknown`)."""
    caught_up: bool
    """InSync, and the new version is AWSCURRENT in the replica's region too."""
    message: str | None = None
    """ReplicationStatus[].StatusMessage, or why the replica could not be read."""


@dataclass(frozen=True)
class LogLine:
    """A line of the rotation function's log (CloudWatch Logs), as one line, credential-looking parts masked."""

    time: datetime
    text: str
    group: str


@dataclass(frozen=True)
class TrailFailure:
    """A RotationFailed event of the secret (CloudTrail)."""

    time: datetime
    message: str | None


@dataclass(frozen=True)
class SecretDrill:
    name: str
    region: str
    outcome: Outcome
    function: str | None = None
    """The rotation function's name (DescribeSecret's RotationLambdaARN), None for a managed rotation without one."""
    version: str | None = None
    """The rotation's version: the one started, or the one already rotating."""
    previous_version: str | None = None
    """AWSCURRENT before the drill."""
    seconds: float | None = None
    """From RotateSecret's answer to the look that saw the outcome (a look every few seconds)."""
    current_moved: bool = False
    """AWSCURRENT is on the new version."""
    replicas: tuple[ReplicaState, ...] = ()
    reason: str | None = None
    """One line: why it failed, did not finish or was not started."""
    rotation_failed: TrailFailure | None = None
    function_error: LogLine | None = None
    what_to_do: str | None = None


@dataclass(frozen=True)
class DrillReport:
    environment: str
    security_account: str
    region: str
    wait_seconds: int
    started_at: datetime
    secrets: tuple[SecretDrill, ...]
    notes: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return all(item.outcome is Outcome.SUCCEEDED for item in self.secrets)
