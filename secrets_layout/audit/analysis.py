"""The audit's decisions as pure functions: live state (as DescribeSecret reports it) vs the declaration.

No boto3 here. `collect` turns API responses into `LiveSecret`s; these functions compare them with
what the program would deploy, computed by the components' own pure functions.

AWS facts relied on (DescribeSecret, https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html):
- LastAccessedDate is rounded to the date and omitted when the secret was never retrieved in that Region;
- LastRotatedDate is omitted when the secret never rotated; NextRotationDate only when rotation is on;
- KmsKeyId is omitted when the secret uses the AWS managed key aws/secretsmanager;
- ReplicationStatus[].Status is InSync | Failed | InProgress;
- VersionIdsToStages maps version IDs to staging labels. A version holding AWSPENDING but not
  AWSCURRENT is a rotation in progress; Secrets Manager refuses to start another until it is
  cleared ("A previous rotation isn't complete", https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from secrets_layout.audit import findings as kinds
from secrets_layout.audit.findings import Finding, SecretStatus
from secrets_layout.components.policy_documents import secret_policy_for
from secrets_layout.components.rotation_settings import rotation_rules
from secrets_layout.components.secret_settings import secret_tags
from secrets_layout.declaration.models import Declaration, Secret

STUCK_AFTER = timedelta(hours=24)
"""A pending version older than this is stuck: a rotation window is at most 24 hours
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html)."""

AWS_TAG_PREFIX = "aws:"
"""Tags AWS sets itself (aws:...) are not the program's and never count as drift."""


@dataclass(frozen=True)
class LiveReplica:
    region: str
    status: str
    status_message: str | None = None
    kms_key_arn: str | None = None
    """The replica's key as a key ARN; None for the AWS managed key."""


@dataclass(frozen=True)
class LiveSecret:
    """One secret as Secrets Manager reports it in one region (never its value)."""

    name: str
    arn: str
    region: str
    primary_region: str | None = None
    """Set on a replica: the region of its primary."""
    kms_key_arn: str | None = None
    rotation_enabled: bool = False
    rotation_rules: Mapping[str, Any] = field(default_factory=dict)
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    last_accessed: datetime | None = None
    created: datetime | None = None
    deleted: datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    version_stages: Mapping[str, Sequence[str]] = field(default_factory=dict)
    version_created: Mapping[str, datetime] = field(default_factory=dict)
    replicas: tuple[LiveReplica, ...] = ()
    policy: Mapping[str, Any] | None = None

    @property
    def is_replica(self) -> bool:
        return self.primary_region is not None and self.primary_region != self.region


@dataclass(frozen=True)
class RotationFailure:
    time: datetime
    message: str | None = None


# --- policies ----------------------------------------------------------------------------------

def normalise_policy(document: Any) -> Any:
    """A policy in a canonical form, so that equal meaning compares equal.

    IAM treats a one-element list as its element and the order of values, actions and
    statements as meaningless; AWS may store either form. Lists become sorted tuples of their
    unique normalised items (one item: the item itself); mappings keep their keys.
    """
    if isinstance(document, Mapping):
        return {key: normalise_policy(value) for key, value in sorted(document.items())}
    if isinstance(document, list | tuple):
        items = sorted({json.dumps(normalise_policy(item), sort_keys=True) for item in document})
        values = [json.loads(item) for item in items]
        return values[0] if len(values) == 1 else values
    return document


def _statements(document: Mapping[str, Any] | None) -> dict[str, Any]:
    if not document:
        return {}
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    keyed: dict[str, Any] = {}
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            continue
        key = str(statement.get("Sid") or f"#{index + 1}")
        keyed[key] = normalise_policy(statement)
    return keyed


def _leaves(value: Any, path: str = "") -> set[tuple[str, str]]:
    """(path, scalar) pairs: a list contributes one pair per item, so an added principal shows alone."""
    if isinstance(value, Mapping):
        return {leaf for key, item in value.items() for leaf in _leaves(item, f"{path}.{key}" if path else key)}
    if isinstance(value, list):
        return {leaf for item in value for leaf in _leaves(item, path)}
    return {(path, json.dumps(value) if not isinstance(value, str) else value)}


def policy_differences(expected: Mapping[str, Any], live: Mapping[str, Any] | None) -> list[str]:
    """What a live resource policy changes against the expected one, compared by meaning."""
    if live is None:
        return ["the secret has no resource policy (readers cannot read it; the deny statements are gone)"]
    if normalise_policy(dict(expected)) == normalise_policy(dict(live)):
        return []
    wanted, found = _statements(expected), _statements(live)
    differences = [f"statement {sid} is missing" for sid in sorted(wanted.keys() - found.keys())]
    differences += [f"statement {sid} was added" for sid in sorted(found.keys() - wanted.keys())]
    for sid in sorted(wanted.keys() & found.keys()):
        if wanted[sid] == found[sid]:
            continue
        old, new = _leaves(wanted[sid]), _leaves(found[sid])
        for path, value in sorted(new - old):
            differences.append(f"statement {sid}: {path} has {value} (not deployed by the program)")
        for path, value in sorted(old - new):
            differences.append(f"statement {sid}: {path} lost {value}")
    if not differences:
        differences.append("the policy's Version or layout differs")
    return differences


# --- tags, keys, replicas ----------------------------------------------------------------------

def tag_differences(expected: Mapping[str, str], live: Mapping[str, str]) -> list[str]:
    own = {key: value for key, value in live.items() if not key.startswith(AWS_TAG_PREFIX)}
    differences = [f"tag {key} is missing" for key in sorted(expected.keys() - own.keys())]
    differences += [
        f"tag {key} is {own[key]!r}, expected {expected[key]!r}"
        for key in sorted(expected.keys() & own.keys())
        if expected[key] != own[key]
    ]
    differences += [f"tag {key} was added" for key in sorted(own.keys() - expected.keys())]
    return differences


def _key_text(arn: str | None) -> str:
    return arn or "the AWS managed key aws/secretsmanager"


def replica_findings(
    secret: Secret, live: LiveSecret, expected_keys: Mapping[str, str | None]
) -> list[Finding]:
    found: list[Finding] = []
    replicas = {replica.region: replica for replica in live.replicas}
    for region in secret.replicas:
        replica = replicas.get(region)
        if replica is None:
            found.append(Finding(secret.name, region, kinds.REPLICA_MISSING,
                                 f"the declared replica in {region} does not exist; run `pulumi up` to create it"))
            continue
        if replica.status != "InSync":
            detail = f": {replica.status_message}" if replica.status_message else ""
            found.append(Finding(secret.name, region, kinds.REPLICA_NOT_IN_SYNC,
                                 f"the replica's status is {replica.status}{detail}; fix the cause and "
                                 "retry with `aws secretsmanager replicate-secret-to-regions`"))
        expected = expected_keys.get(region)
        if expected is not None and replica.kms_key_arn != expected:
            found.append(Finding(secret.name, region, kinds.REPLICA_KEY_DRIFT,
                                 f"the replica is encrypted with {_key_text(replica.kms_key_arn)}, the program "
                                 f"deploys {expected}; run `pulumi up`"))
    for region in sorted(replicas.keys() - set(secret.replicas)):
        found.append(Finding(secret.name, region, kinds.REPLICA_UNEXPECTED,
                             f"a replica in {region} is not declared; add {region} to the secret's replicas "
                             "or remove the replica"))
    return found


# --- rotation ----------------------------------------------------------------------------------

def stuck_versions(live: LiveSecret, now: datetime) -> list[str]:
    """Versions labelled AWSPENDING without AWSCURRENT for longer than a rotation may take."""
    stuck = []
    for version, stages in live.version_stages.items():
        if "AWSPENDING" in stages and "AWSCURRENT" not in stages:
            created = live.version_created.get(version)
            if created is None or now - created > STUCK_AFTER:
                stuck.append(version)
    return sorted(stuck)


def _expected_rotation_rules(secret: Secret) -> dict[str, Any]:
    """rotation_rules() in the API's names (AutomaticallyAfterDays, ScheduleExpression, Duration)."""
    names = {"automatically_after_days": "AutomaticallyAfterDays", "schedule_expression": "ScheduleExpression",
             "duration": "Duration"}
    assert secret.rotation is not None
    return {names[key]: value for key, value in rotation_rules(secret.rotation).items()}


def _same_rule(key: str, expected: Any, live_rules: Mapping[str, Any]) -> bool:
    live = live_rules.get(key)
    if live == expected:
        return True
    # AWS may report an every-N-days rule as its schedule expression; both mean the same.
    if key == "AutomaticallyAfterDays":
        expression = str(live_rules.get("ScheduleExpression", "")).replace(" ", "")
        return expression in {f"rate({expected}days)", f"rate({expected}day)"}
    return False


def rotation_findings(
    secret: Secret | None,
    live: LiveSecret,
    *,
    now: datetime,
    maximum_days: int,
    failure: RotationFailure | None = None,
) -> list[Finding]:
    """Rotation discipline of one secret against its declaration and the policy's maximumDays."""
    name, region = live.name, live.region
    found: list[Finding] = []
    declared_rotates = secret is not None and secret.rotates
    if secret is not None and declared_rotates and not live.rotation_enabled:
        found.append(Finding(name, region, kinds.ROTATION_DISABLED,
                             "the declaration rotates this secret but rotation is off in AWS; run `pulumi up` "
                             "to turn it back on"))
    if secret is not None and not declared_rotates and live.rotation_enabled:
        found.append(Finding(name, region, kinds.ROTATION_UNEXPECTED,
                             "rotation is on in AWS but the declaration does not rotate this secret; declare "
                             "its rotation or cancel it with `aws secretsmanager cancel-rotate-secret`"))
    if secret is not None and declared_rotates and live.rotation_enabled:
        wanted = _expected_rotation_rules(secret)
        changed = [key for key, value in wanted.items() if not _same_rule(key, value, live.rotation_rules)]
        if changed:
            shown = ", ".join(f"{key} {live.rotation_rules.get(key)!r} (declared {wanted[key]!r})" for key in changed)
            found.append(Finding(name, region, kinds.ROTATION_SCHEDULE_DRIFT,
                                 f"the rotation schedule differs: {shown}; run `pulumi up`"))
    if live.rotation_enabled or declared_rotates:
        if live.last_rotated is None:
            if live.rotation_enabled:
                found.append(Finding(name, region, kinds.ROTATION_NEVER,
                                     "rotation is on but the secret has never rotated; check the rotation "
                                     "function's logs and rotate it once with `aws secretsmanager rotate-secret`"))
        elif now - live.last_rotated > timedelta(days=maximum_days):
            age = (now - live.last_rotated).days
            found.append(Finding(name, region, kinds.ROTATION_OVERDUE,
                                 f"last rotated {age} days ago ({live.last_rotated:%Y-%m-%d}), more than the "
                                 f"policy's maximumDays {maximum_days}; rotate it now and find why the "
                                 "schedule did not"))
    for version in stuck_versions(live, now):
        found.append(Finding(name, region, kinds.ROTATION_STUCK,
                             f"version {version} still holds AWSPENDING without AWSCURRENT: a rotation never "
                             "finished and every later one will fail; fix the function, then remove the label "
                             "with `aws secretsmanager update-secret-version-stage --remove-from-version-id`"))
    if failure is not None and (live.last_rotated is None or failure.time > live.last_rotated):
        detail = f": {failure.message}" if failure.message else ""
        found.append(Finding(name, region, kinds.ROTATION_FAILED,
                             f"the last rotation failed on {failure.time:%Y-%m-%d %H:%M} UTC{detail}; read the "
                             "rotation function's logs"))
    return found


# --- usage -------------------------------------------------------------------------------------

def unread_finding(live: LiveSecret, *, now: datetime, unread_days: int) -> Finding | None:
    threshold = now - timedelta(days=unread_days)
    if live.last_accessed is not None:
        if live.last_accessed >= threshold:
            return None
        message = f"not read since {live.last_accessed:%Y-%m-%d}"
    else:
        if live.created is not None and live.created >= threshold:
            return None
        message = "never read"
    return Finding(live.name, live.region, kinds.SECRET_UNREAD,
                   f"{message} (more than {unread_days} days): it costs money and is a credential nobody "
                   "watches; remove it from the declaration if it is no longer needed")


# --- the whole environment ---------------------------------------------------------------------

def expected_policy(declaration: Declaration, secret: Secret) -> dict[str, Any]:
    return secret_policy_for(declaration, secret)


def audit_secrets(
    declaration: Declaration,
    live_by_region: Mapping[str, Sequence[LiveSecret]],
    *,
    expected_keys: Mapping[str, str | None],
    now: datetime,
    maximum_days: int,
    unread_days: int,
    failures: Mapping[str, RotationFailure] | None = None,
) -> tuple[list[SecretStatus], list[Finding]]:
    """Every finding for the environment, and a status row per live secret under its prefix.

    live_by_region: the secrets listed under `<environment>/` in each region of the layout.
    expected_keys: region -> the key ARN the program encrypts with there (None: unknown).
    failures: secret ARN or name -> its last RotationFailed event in the period.
    """
    failures = failures or {}
    declared = {secret.name: secret for secret in declaration.secrets}
    primary = declaration.primary_region
    statuses: list[SecretStatus] = []
    found: list[Finding] = []
    seen_primary: set[str] = set()
    for region in declaration.regions:
        for live in live_by_region.get(region, ()):
            if live.is_replica:
                continue
            secret = declared.get(live.name) if region == primary else None
            if secret is None:
                where = "" if live.name not in declared else f" (the declaration puts it in {primary})"
                found.append(Finding(live.name, region, kinds.SECRET_UNDECLARED,
                                     f"the secret is under {declaration.environment}/ but not declared{where}; "
                                     "declare it (import_id adopts it) or delete it"))
            else:
                seen_primary.add(live.name)
            failure = failures.get(live.arn) or failures.get(live.name)
            statuses.append(SecretStatus(
                name=live.name, region=region, declared=secret is not None, rotation_enabled=live.rotation_enabled,
                last_rotated=live.last_rotated, next_rotation=live.next_rotation, last_accessed=live.last_accessed,
                stuck=bool(stuck_versions(live, now)), last_failure=failure.time if failure else None,
                last_failure_message=failure.message if failure else None,
            ))
            found.extend(rotation_findings(secret, live, now=now, maximum_days=maximum_days, failure=failure))
            if secret is None:
                continue
            if live.deleted is not None:
                found.append(Finding(live.name, region, kinds.SECRET_PENDING_DELETION,
                                     f"the secret is scheduled for deletion ({live.deleted:%Y-%m-%d}); restore it "
                                     "with `aws secretsmanager restore-secret` or remove it from the declaration"))
            differences = policy_differences(expected_policy(declaration, secret), live.policy)
            if differences:
                found.append(Finding(live.name, region, kinds.POLICY_DRIFT,
                                     "the resource policy differs from the deployed one: " + "; ".join(differences)
                                     + "; run `pulumi up` to restore it, or declare the reader"))
            expected_key = expected_keys.get(region)
            if expected_key is not None and live.kms_key_arn != expected_key:
                found.append(Finding(live.name, region, kinds.KEY_DRIFT,
                                     f"encrypted with {_key_text(live.kms_key_arn)}, the program deploys "
                                     f"{expected_key}; run `pulumi up`"))
            tags = tag_differences(secret_tags(secret, declaration.environment), live.tags)
            if tags:
                found.append(Finding(live.name, region, kinds.TAGS_DRIFT, "; ".join(tags) + "; run `pulumi up`"))
            found.extend(replica_findings(secret, live, expected_keys))
            unread = unread_finding(live, now=now, unread_days=unread_days)
            if unread is not None:
                found.append(unread)
    for name in sorted(declared.keys() - seen_primary):
        found.append(Finding(name, primary, kinds.SECRET_MISSING,
                             "the declared secret does not exist in AWS; run `pulumi up` (or find who deleted it)"))
    return statuses, sorted(set(found))


# --- rotation failures from CloudTrail ---------------------------------------------------------

def last_failures(events: Iterable[tuple[str, datetime, str | None]]) -> dict[str, RotationFailure]:
    """(secret ARN, time, errorMessage) of RotationFailed events -> the latest per secret."""
    latest: dict[str, RotationFailure] = {}
    for arn, time, message in events:
        if arn not in latest or time > latest[arn].time:
            latest[arn] = RotationFailure(time, message)
    return latest
