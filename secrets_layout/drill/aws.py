"""The drill's AWS calls, and nothing that reads a secret value.

Secrets Manager: DescribeSecret, ListSecretVersionIds and RotateSecret only; the clients
(secrets_layout.audit.collect.AwsClients) refuse GetSecretValue and BatchGetSecretValue before a
request is signed. CloudTrail: LookupEvents for RotationFailed. CloudWatch Logs: FilterLogEvents on
the rotation function's log group.

AWS facts relied on:
- RotateSecret with only SecretId starts a rotation with the secret's stored function and schedule
  ("If you don't include the configuration parameters, the operation starts a rotation with the values
  already stored in the secret", API_RotateSecret), and answers the new version's VersionId, the
  ClientRequestToken given. While AWSPENDING sits on a version other than AWSCURRENT it refuses with
  InvalidRequestException "A previous rotation isn't complete. That rotation will be reattempted."
  DescribeSecret has no "in progress" field: those labels are how it says so.
- Secrets Manager labels the new version AWSPENDING before it calls the function's createSecret
  (the function refuses a token that is not AWSPENDING); the rotation succeeded when the version
  holds AWSCURRENT (finishSecret moves it).
- A version without labels is deprecated: DescribeSecret's VersionIdsToStages leaves it out and
  ListSecretVersionIds lists it with IncludeDeprecated (API_ListSecretVersionIds). A rotation's version
  that exists but holds neither AWSPENDING nor AWSCURRENT was given up.
- ReplicationStatus[].Status is InSync, InProgress, Pending, Failed or Detached (the service model);
  a replica's own DescribeSecret, in its region, shows its labels.
- A Lambda function logs to /aws/lambda/<function name> unless configured otherwise ("Sending Lambda
  function logs to CloudWatch Logs").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from secrets_layout.audit.collect import AwsClients, error_reason
from secrets_layout.audit.trail import ROTATION_FAILED, lookup_records
from secrets_layout.drill.evidence import (
    Evidence,
    FunctionWord,
    ParsedLine,
    function_word,
    parse_log_event,
    trail_failure,
)
from secrets_layout.drill.model import ReplicaState

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
CLOCK_SKEW = timedelta(seconds=10)
"""CloudTrail and CloudWatch Logs are asked from this long before the rotation started: this machine's
clock may be a little ahead of AWS's."""
LOG_EVENTS_PER_LOOK = 10_000
"""At most this many log events are read per look (FilterLogEvents answers up to 10,000 per page)."""
NOT_FOUND = "ResourceNotFoundException"

Note = Callable[[str], None]


def code_of(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def refused_as_in_progress(error: ClientError) -> bool:
    """RotateSecret's answer while another rotation's AWSPENDING is in place."""
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    return code_of(error) == "InvalidRequestException" and "previous rotation" in message


def pending_versions(description: Mapping[str, Any]) -> list[str]:
    """Versions labelled AWSPENDING without AWSCURRENT: a rotation in progress."""
    stages = description.get("VersionIdsToStages") or {}
    return sorted(version for version, labels in stages.items() if PENDING in labels and CURRENT not in labels)


def current_version(description: Mapping[str, Any]) -> str | None:
    stages = description.get("VersionIdsToStages") or {}
    return next((version for version, labels in stages.items() if CURRENT in labels), None)


def function_of(lambda_arn: str | None) -> tuple[str, str] | None:
    """(function name, region) of a RotationLambdaARN:
    `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`."""
    parts = (lambda_arn or "").split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "function":
        return None
    return parts[6], parts[3]


def listed_versions(client: Any, arn: str, *, include_deprecated: bool = False) -> Iterator[Mapping[str, Any]]:
    """ListSecretVersionIds page after page (botocore has no paginator for it)."""
    arguments: dict[str, Any] = {"SecretId": arn, "IncludeDeprecated": include_deprecated}
    while True:
        page = client.list_secret_version_ids(**arguments)
        yield from page.get("Versions", [])
        if not page.get("NextToken"):
            return
        arguments["NextToken"] = page["NextToken"]


def version_created(client: Any, arn: str, version: str) -> datetime | None:
    return next((item.get("CreatedDate") for item in listed_versions(client, arn) if item.get("VersionId") == version),
                None)


def start_rotation(client: Any, arn: str, token: str) -> str:
    """RotateSecret with the secret's stored rotation; the new version's id."""
    answer = client.rotate_secret(SecretId=arn, ClientRequestToken=token, RotateImmediately=True)
    return str(answer.get("VersionId") or token)


@dataclass(frozen=True)
class VersionState:
    stages: frozenset[str]
    exists: bool

    @property
    def current(self) -> bool:
        return CURRENT in self.stages

    @property
    def given_up(self) -> bool:
        return self.exists and not self.stages & {CURRENT, PENDING}


def version_state(client: Any, arn: str, version: str) -> VersionState:
    """The version's labels; when DescribeSecret lists none, whether it exists at all (deprecated)."""
    stages = frozenset((client.describe_secret(SecretId=arn).get("VersionIdsToStages") or {}).get(version) or ())
    if stages:
        return VersionState(stages, True)
    exists = any(item.get("VersionId") == version for item in listed_versions(client, arn, include_deprecated=True))
    return VersionState(frozenset(), exists)


def replica_states(clients: AwsClients, region: str, name: str, version: str) -> tuple[ReplicaState, ...]:
    """Each replica of the secret: ReplicationStatus from the primary, its labels from its own region."""
    described = clients("secretsmanager", region).describe_secret(SecretId=name)
    states = []
    for item in described.get("ReplicationStatus") or []:
        replica_region, status = str(item["Region"]), str(item.get("Status", "unknown"))
        message = item.get("StatusMessage")
        caught_up = False
        if status == "InSync":
            try:
                replica = clients("secretsmanager", replica_region).describe_secret(SecretId=name)
            except (ClientError, BotoCoreError) as error:
                states.append(ReplicaState(replica_region, "unknown", False,
                                           f"DescribeSecret in {replica_region}: {error_reason(error)}"))
                continue
            caught_up = CURRENT in ((replica.get("VersionIdsToStages") or {}).get(version) or ())
        states.append(ReplicaState(replica_region, status, caught_up, str(message) if message else None))
    return tuple(states)


class FunctionLog:
    """The rotation function's log from the rotation's start, read a little more at each look.

    The filter pattern asks the service for the lines that can matter (the ARN, the version, errors,
    timeouts); every line is judged again here (evidence.function_word), whatever the service sent.
    """

    def __init__(self, client: Any, function: str, *, since: datetime, arn: str, version: str) -> None:
        self.group = f"/aws/lambda/{function}"
        self._client = client
        self._from_ms = int((since - CLOCK_SKEW).timestamp() * 1000)
        self._pattern = f'?"{arn}" ?"{version}" ?ERROR ?"Task timed out"'
        self._lines: dict[str, ParsedLine] = {}
        self.group_found = False

    def read(self) -> list[ParsedLine]:
        pages = self._client.get_paginator("filter_log_events").paginate(
            logGroupName=self.group, startTime=self._from_ms, filterPattern=self._pattern,
            PaginationConfig={"MaxItems": LOG_EVENTS_PER_LOOK})
        try:
            for page in pages:
                for event in page.get("events", []):
                    key = str(event.get("eventId") or (event.get("timestamp"), event.get("message")))
                    timestamp = int(event.get("timestamp", 0))
                    if key not in self._lines:
                        self._lines[key] = parse_log_event(timestamp, str(event.get("message", "")))
                        # Events of the same millisecond may come again from there: eventId tells them apart.
                        self._from_ms = max(self._from_ms, timestamp)
        except ClientError as error:
            if code_of(error) != NOT_FOUND:
                raise
            return list(self._lines.values())  # no log group yet: the function has not logged
        self.group_found = True
        return list(self._lines.values())


class EvidenceReader:
    """The function's log and CloudTrail about one rotation. A source that cannot be read is a note,
    said once, and is not asked again: the labels still tell success from failure."""

    def __init__(self, clients: AwsClients, *, arn: str, version: str, function_arn: str | None,
                 trail_region: str, since: datetime, note: Note) -> None:
        self._clients = clients
        self._arn, self._version, self._since = arn, version, since
        self._trail_region = trail_region
        self._note = note
        function = function_of(function_arn)
        self._log = None if function is None else FunctionLog(
            clients("logs", function[1]), function[0], since=since, arn=arn, version=version)
        self._log_region = function[1] if function else None
        self._trail_ok = True
        self._word = FunctionWord()
        self._trail = None

    @property
    def log_group(self) -> str | None:
        return self._log.group if self._log else None

    def read(self, *, trail: bool, until: datetime) -> Evidence:
        if self._log is not None:
            try:
                lines = self._log.read()
                self._word = function_word(lines, arn=self._arn, version=self._version, group=self._log.group)
            except (ClientError, BotoCoreError) as error:
                self._note(f"CloudWatch Logs {self._log.group} ({self._log_region}) not read: {error_reason(error)}")
                self._log = None
        if trail and self._trail_ok:
            try:
                records = lookup_records(self._clients("cloudtrail", self._trail_region), self._since - CLOCK_SKEW,
                                         until, attribute=("EventName", ROTATION_FAILED))
                self._trail = trail_failure(records, arn=self._arn, since=self._since - CLOCK_SKEW) or self._trail
            except (ClientError, BotoCoreError) as error:
                self._note(f"CloudTrail LookupEvents ({self._trail_region}) not read: {error_reason(error)}")
                self._trail_ok = False
        return Evidence(self._word, self._trail)

    def silent_log(self) -> str | None:
        """A note when the function's log group was never found."""
        if self._log is not None and not self._log.group_found:
            return f"{self._log.group} ({self._log_region}): no such log group; the function has not logged there"
        return None
