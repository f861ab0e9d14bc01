"""The Secrets Manager calls a rotation makes, each safe to repeat and to race with a twin invocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

from log_safety import CredentialRedactor

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"
ROTATION_LABELS = frozenset({CURRENT, PENDING, PREVIOUS})
REVOCATION_LABEL_PREFIX = "PENDING-REVOCATION-"
ISSUED_LABEL_PREFIX = "ISSUED-AT-"
ISSUED_LABEL_TIME = "%Y%m%dT%H%M%SZ"


def revocation_label(version_id: str) -> str:
    """One label per version: a staging label sits on one version only, and several may await revocation."""
    return REVOCATION_LABEL_PREFIX + version_id


def issued_label(stored_at: datetime) -> str:
    """When a pending version's credential was stored, as a label of that version: `ISSUED-AT-20250131T120000Z`.

    A label, because it is written in the same PutSecretValue as the value (so every retry of the rotation
    finds it), changes nothing a reader or the deployment sees (tags would be drift for Pulumi), and goes
    with the version. Whole seconds, rounded up: a grace period measured from it is never shorter.
    """
    whole = stored_at.astimezone(timezone.utc).replace(microsecond=0)
    if whole < stored_at:
        whole += timedelta(seconds=1)
    return ISSUED_LABEL_PREFIX + whole.strftime(ISSUED_LABEL_TIME)


def issued_at(label: str) -> datetime | None:
    """The time an `issued_label` holds; None for any other label."""
    if not label.startswith(ISSUED_LABEL_PREFIX):
        return None
    try:
        return datetime.strptime(label[len(ISSUED_LABEL_PREFIX):], ISSUED_LABEL_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


class PendingValueTaken(Exception):
    """A twin invocation already stored a different value under this rotation's token."""


@dataclass(frozen=True)
class SecretState:
    arn: str
    rotation_enabled: bool
    tags: Mapping[str, str]
    # Versions without labels are deprecated; AWS leaves them out, so this does too.
    stages_by_version: Mapping[str, frozenset[str]]

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> SecretState:
        stages = {
            version: frozenset(labels)
            for version, labels in description.get("VersionIdsToStages", {}).items()
            if labels
        }
        return cls(
            arn=description["ARN"],
            rotation_enabled=bool(description.get("RotationEnabled")),
            tags={tag["Key"]: tag["Value"] for tag in description.get("Tags", [])},
            stages_by_version=stages,
        )

    def stages_of(self, version_id: str) -> frozenset[str]:
        return self.stages_by_version.get(version_id, frozenset())

    def version_labelled(self, label: str) -> str | None:
        return next((version for version, stages in self.stages_by_version.items() if label in stages), None)

    def versions_holding(self, labels: frozenset[str]) -> list[str]:
        return [version for version, stages in self.stages_by_version.items() if stages & labels]

    def unmarked(self, *labels: str) -> list[str]:
        """The versions holding one of labels that carry no revocation mark yet."""
        versions = {self.version_labelled(label) for label in labels} - {None}
        return sorted(version for version in versions if revocation_label(version) not in self.stages_of(version))

    def stored_at(self, version_id: str) -> datetime | None:
        """When the version's credential was stored, by its `issued_label`; None without one."""
        times = [when for when in map(issued_at, self.stages_of(version_id)) if when is not None]
        return min(times, default=None)

    def issued_labels(self) -> list[tuple[str, str]]:
        """(version, label) of every `issued_label` of the secret."""
        return [
            (version, label)
            for version, stages in self.stages_by_version.items()
            for label in sorted(stages)
            if issued_at(label) is not None
        ]

    def versions_awaiting_revocation(self) -> list[str]:
        """Versions marked for revocation that no reader can be sent to any more."""
        return [
            version
            for version, stages in self.stages_by_version.items()
            if revocation_label(version) in stages and not stages & ROTATION_LABELS
        ]


@dataclass(frozen=True)
class SecretVersions:
    client: Any
    secret_id: str
    # Every value read or written is remembered, so that no log line or error can repeat it.
    redactor: CredentialRedactor = field(default_factory=CredentialRedactor, repr=False)

    def describe(self) -> SecretState:
        return SecretState.from_description(self.client.describe_secret(SecretId=self.secret_id))

    def value(self, *, stage: str | None = None, version_id: str | None = None) -> str:
        selector = {}
        if stage is not None:
            selector["VersionStage"] = stage
        if version_id is not None:
            selector["VersionId"] = version_id
        answer = self.client.get_secret_value(SecretId=self.secret_id, **selector)
        if "SecretString" not in answer:
            raise ValueError("binary secret values cannot be rotated by this function")
        self.redactor.remember(answer["SecretString"])
        return answer["SecretString"]

    def value_if_any(self, *, stage: str | None = None, version_id: str | None = None) -> str | None:
        """The value, or None where the version has none (a rotation's version before createSecret stores one)."""
        try:
            return self.value(stage=stage, version_id=version_id)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise

    def pending_value_exists(self, token: str) -> bool:
        return self.value_if_any(stage=PENDING, version_id=token) is not None

    def store_pending(
        self, token: str, value: str, rotation_token: str | None = None, *, stored_at: datetime, marked: bool = True
    ) -> None:
        """Store value as the token's AWSPENDING version, with the time it is stored (`issued_label`) and,
        when marked, its revocation mark, all in the same call."""
        self.redactor.remember(value)
        stages = [PENDING, issued_label(stored_at)] + ([revocation_label(token)] if marked else [])
        arguments = {
            "SecretId": self.secret_id,
            "ClientRequestToken": token,
            "SecretString": value,
            "VersionStages": stages,
        }
        if rotation_token is not None:
            arguments["RotationToken"] = rotation_token
        try:
            self.client.put_secret_value(**arguments)
        except ClientError as error:
            if error_code(error) == "ResourceExistsException":
                raise PendingValueTaken(f"version {token} already holds another value") from None
            raise

    def move_current(self, *, to_version: str, from_version: str | None) -> None:
        # One call: AWSCURRENT never leaves a version without landing on another, and AWS moves AWSPREVIOUS with it.
        self._relabel(CURRENT, move_to=to_version, remove_from=from_version)

    def attach(self, label: str, version_id: str) -> None:
        self._relabel(label, move_to=version_id)

    def detach(self, label: str, version_id: str) -> None:
        self._relabel(label, remove_from=version_id)

    def _relabel(self, label: str, *, move_to: str | None = None, remove_from: str | None = None) -> None:
        arguments = {"SecretId": self.secret_id, "VersionStage": label}
        if move_to is not None:
            arguments["MoveToVersionId"] = move_to
        if remove_from is not None:
            arguments["RemoveFromVersionId"] = remove_from
        try:
            self.client.update_secret_version_stage(**arguments)
        except ClientError:
            # A twin invocation of the same step may have made this very change first.
            if self._labels_in_place(label, move_to, remove_from):
                return
            raise

    def _labels_in_place(self, label: str, move_to: str | None, remove_from: str | None) -> bool:
        state = self.describe()
        return (move_to is None or label in state.stages_of(move_to)) and (
            remove_from is None or label not in state.stages_of(remove_from)
        )


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")
