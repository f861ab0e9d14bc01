"""One drill: look at each secret (read-only), then rotate the ready ones one after another, each
waited for until it finishes or --wait elapses, its replicas included.

One rotation at a time on purpose: a shared rotation function (the bundled one serves every API key
of an environment) and the provider behind it see the load a schedule puts on them, and each line of
the function's log belongs to the one rotation running. Once a rotation has started, nothing raises:
what could not be followed is reported as such (not-finished) and the drill goes on with the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from secrets_layout.audit.collect import AwsClients, describe_error, error_reason
from secrets_layout.declaration.models import Declaration, Secret
from secrets_layout.drill import advice
from secrets_layout.drill.aws import (
    NOT_FOUND,
    EvidenceReader,
    code_of,
    current_version,
    function_of,
    pending_versions,
    refused_as_in_progress,
    replica_states,
    start_rotation,
    version_created,
    version_state,
)
from secrets_layout.drill.evidence import Evidence
from secrets_layout.drill.model import DrillReport, Outcome, ReplicaState, SecretDrill
from secrets_layout.drill.waiting import Look, Waiting

DRILL_ROLE = "a role in the security account that may rotate these secrets (docs/rotation-drill.md, \"Permissions\")"
CALLER = "the rotation drill"
REPLICA_FAILURES = frozenset({"Failed", "Detached", "unknown"})

Progress = Callable[[str], None]
Note = Callable[[str], None]


@dataclass(frozen=True)
class Ready:
    """A secret the drill can rotate: it exists, rotation is on, no rotation is in progress."""

    name: str
    region: str
    arn: str
    function_arn: str | None
    current_version: str | None

    @property
    def function(self) -> str | None:
        found = function_of(self.function_arn)
        return found[0] if found else None


Planned = Ready | SecretDrill


@dataclass
class Whereabouts:
    """Where the drill is, for the line Ctrl-C leaves."""

    phase: str = "planning"
    """planning, starting (RotateSecret on its way), waiting, done."""
    secret: str | None = None
    version: str | None = None
    finished: int = 0
    not_started: list[str] = field(default_factory=list)


def plan_drill(declaration: Declaration, targets: Sequence[Secret], clients: AwsClients) -> list[Planned]:
    """Each target as Ready, or as a result already (missing, rotation off, a rotation in progress).
    Secrets Manager refusing to describe them stops the drill before anything starts (AuditError)."""
    region = declaration.primary_region
    client = clients("secretsmanager", region)
    planned: list[Planned] = []
    for secret in targets:
        try:
            planned.append(_look_at(client, secret.name, region))
        except (ClientError, BotoCoreError) as error:
            raise describe_error(error, f"secretsmanager DescribeSecret {secret.name} in {region}",
                                 role=DRILL_ROLE, caller=CALLER) from None
    return planned


def _look_at(client, name: str, region: str) -> Planned:
    try:
        description = client.describe_secret(SecretId=name)
    except ClientError as error:
        if code_of(error) == NOT_FOUND:
            return SecretDrill(name, region, Outcome.NOT_STARTED, reason=f"no secret {name} in {region}",
                               what_to_do=advice.MISSING)
        raise
    found = function_of(description.get("RotationLambdaARN"))
    function = found[0] if found else None
    if description.get("DeletedDate"):
        return SecretDrill(name, region, Outcome.NOT_STARTED, function=function,
                           reason=f"scheduled for deletion on {description['DeletedDate']:%Y-%m-%d}",
                           what_to_do=advice.SCHEDULED_FOR_DELETION)
    if not description.get("RotationEnabled"):
        return SecretDrill(name, region, Outcome.NOT_STARTED, function=function,
                           reason="rotation is off in AWS, though the declaration rotates it",
                           what_to_do=advice.ROTATION_OFF)
    pending = pending_versions(description)
    if pending:
        version = pending[0]
        # DescribeSecret does not say since when; ListSecretVersionIds does (CreatedDate).
        since = version_created(client, description["ARN"], version)
        held = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        return SecretDrill(name, region, Outcome.ALREADY_ROTATING, function=function, version=version,
                           previous_version=current_version(description),
                           reason=f"version {version} has held AWSPENDING without AWSCURRENT{held}: a rotation is "
                                  "in progress",
                           what_to_do=advice.already_rotating(name, region, version))
    return Ready(name, region, str(description["ARN"]), description.get("RotationLambdaARN"),
                 current_version(description))


@dataclass
class Drill:
    """The rotations of one run: the clients, how to wait, and where to say what happens."""

    clients: AwsClients
    wait_seconds: int
    waiting: Waiting
    progress: Progress
    note: Note
    whereabouts: Whereabouts = field(default_factory=Whereabouts)
    new_token: Callable[[], str] = lambda: str(uuid.uuid4())

    def rotate_all(self, ready: Sequence[Ready]) -> list[SecretDrill]:
        self.whereabouts.not_started = [item.name for item in ready]
        results = []
        for item in ready:
            self.whereabouts.not_started.remove(item.name)
            results.append(self.rotate(item))
            self.whereabouts.finished += 1
        self.whereabouts.phase = "done"
        return results

    def rotate(self, ready: Ready) -> SecretDrill:
        started = self._start(ready)
        if isinstance(started, SecretDrill):
            return started
        version, began, began_at = started
        return self._follow(ready, version, began, began_at)

    def _start(self, ready: Ready) -> SecretDrill | tuple[str, float, datetime]:
        token = self.new_token()
        self.whereabouts.phase, self.whereabouts.secret, self.whereabouts.version = "starting", ready.name, token
        self.progress(f"{ready.name}: starting its rotation")
        unstarted = {"name": ready.name, "region": ready.region, "function": ready.function,
                     "previous_version": ready.current_version}
        try:
            version = start_rotation(self.clients("secretsmanager", ready.region), ready.arn, token)
        except ClientError as error:
            reason = f"RotateSecret: {error_reason(error)}"
            if refused_as_in_progress(error):
                return SecretDrill(**unstarted, outcome=Outcome.ALREADY_ROTATING, reason=reason,
                                   what_to_do=advice.already_rotating(ready.name, ready.region, None))
            return SecretDrill(**unstarted, outcome=Outcome.NOT_STARTED, reason=reason, what_to_do=advice.REFUSED)
        except BotoCoreError as error:
            return SecretDrill(**unstarted, outcome=Outcome.NOT_FINISHED, version=token,
                               reason=f"RotateSecret: {error_reason(error)}",
                               what_to_do=advice.not_answered(ready.name, ready.region))
        self.whereabouts.phase, self.whereabouts.version = "waiting", version
        self.progress(f"{ready.name}: waiting for version {version} to become AWSCURRENT")
        return version, self.waiting.clock.monotonic(), self.waiting.clock.now()

    def _follow(self, ready: Ready, version: str, began: float, began_at: datetime) -> SecretDrill:
        reader = EvidenceReader(self.clients, arn=ready.arn, version=version, function_arn=ready.function_arn,
                                trail_region=ready.region, since=began_at, note=self.note)
        client = self.clients("secretsmanager", ready.region)
        given_up = False
        waits_for_provider = False

        def look(moment: Look) -> str | None:
            nonlocal given_up, waits_for_provider
            state = version_state(client, ready.arn, version)
            if state.current:
                return "rotated"
            evidence = reader.read(trail=moment.trail_due, until=self.waiting.clock.now())
            if evidence.word.waiting is not None and not waits_for_provider:
                waits_for_provider = True
                self.progress(f"{ready.name}: the function waits for the provider to accept the new credential")
            given_up = state.given_up
            return "failed" if given_up or evidence.failed else None

        base = {"name": ready.name, "region": ready.region, "function": ready.function, "version": version,
                "previous_version": ready.current_version}
        try:
            waited = self.waiting.until(look, started=began, seconds=self.wait_seconds)
        except (ClientError, BotoCoreError) as error:
            return SecretDrill(**base, outcome=Outcome.NOT_FINISHED,
                               seconds=self.waiting.clock.monotonic() - began,
                               reason=f"could not follow the rotation: {error_reason(error)}",
                               what_to_do=advice.not_finished(ready.name, ready.region, version, waiting=False,
                                                              log_group=reader.log_group))
        if waited.answer == "rotated":
            return self._replicas(ready, version, began, waited.elapsed)
        evidence = reader.read(trail=True, until=self.waiting.clock.now())
        silent = reader.silent_log()
        if silent:
            self.note(silent)
        base.update(seconds=waited.elapsed, rotation_failed=evidence.trail, function_error=evidence.word.failure)
        if given_up or evidence.failed:
            return SecretDrill(**base, outcome=Outcome.FAILED, reason=failure_reason(evidence, version, given_up),
                               what_to_do=advice.failed(ready.name, ready.region, version, given_up=given_up,
                                                        log_group=reader.log_group))
        return SecretDrill(**base, outcome=Outcome.NOT_FINISHED,
                           reason=unfinished_reason(evidence, version, self.wait_seconds),
                           what_to_do=advice.not_finished(ready.name, ready.region, version,
                                                          waiting=evidence.word.waiting is not None,
                                                          log_group=reader.log_group))

    def _replicas(self, ready: Ready, version: str, began: float, seconds: float) -> SecretDrill:
        last: tuple[ReplicaState, ...] = ()
        announced = False

        def look(_: Look) -> tuple[ReplicaState, ...] | None:
            nonlocal last, announced
            last = replica_states(self.clients, ready.region, ready.name, version)
            if all(state.caught_up or state.status in REPLICA_FAILURES for state in last):
                return last
            if not announced:
                announced = True
                self.progress(f"{ready.name}: waiting for the replicas in "
                              f"{', '.join(state.region for state in last if not state.caught_up)}")
            return None

        base = {"name": ready.name, "region": ready.region, "function": ready.function, "version": version,
                "previous_version": ready.current_version, "seconds": seconds, "current_moved": True}
        try:
            waited = self.waiting.until(look, started=began, seconds=self.wait_seconds)
        except (ClientError, BotoCoreError) as error:
            return SecretDrill(**base, replicas=last, outcome=Outcome.NOT_FINISHED,
                               reason=f"rotated; could not read the replicas' state: {error_reason(error)}",
                               what_to_do=advice.replicas_behind(ready.name, [state.region for state in last]
                                                                 or ["its replica regions"]))
        states = waited.answer if waited.answer is not None else last
        failed = [state for state in states if state.status in REPLICA_FAILURES]
        behind = [state for state in states if not state.caught_up and state not in failed]
        if failed:
            return SecretDrill(**base, replicas=states, outcome=Outcome.FAILED,
                               reason="rotated; replication failed: " + _replica_list(failed),
                               what_to_do=advice.replicas_failed(ready.name, [state.region for state in failed]))
        if behind:
            return SecretDrill(**base, replicas=states, outcome=Outcome.NOT_FINISHED,
                               reason=f"rotated; not caught up within {self.wait_seconds} s: " + _replica_list(behind),
                               what_to_do=advice.replicas_behind(ready.name, [state.region for state in behind]))
        return SecretDrill(**base, replicas=states, outcome=Outcome.SUCCEEDED)


def _replica_list(states: Sequence[ReplicaState]) -> str:
    return "; ".join(f"{state.region} {state.status}" + (f" ({state.message})" if state.message else "")
                     for state in states)


def failure_reason(evidence: Evidence, version: str, given_up: bool) -> str:
    """The most precise word on the failure: the function's own, else CloudTrail's, else the labels'."""
    if evidence.word.failure is not None:
        return f"the function logged: {evidence.word.failure.text}"
    if evidence.trail is not None:
        said = evidence.trail.message or "no message"
        return f"CloudTrail RotationFailed at {evidence.trail.time:%Y-%m-%d %H:%M:%S} UTC: {said}" + _hint(evidence)
    if given_up:
        return (f"version {version} lost AWSPENDING without becoming AWSCURRENT: the rotation was given up"
                + _hint(evidence))
    return "the rotation failed" + _hint(evidence)


def unfinished_reason(evidence: Evidence, version: str, wait_seconds: int) -> str:
    reason = f"version {version} did not become AWSCURRENT within {wait_seconds} s"
    if evidence.word.waiting is not None:
        return f"{reason}; the function logged: {evidence.word.waiting.text}"
    return reason + _hint(evidence)


def _hint(evidence: Evidence) -> str:
    unattributed = evidence.word.unattributed
    if unattributed is None:
        return ""
    return f"; the function's log since the start has, naming nothing of this rotation: {unattributed.text}"


def drill_report(declaration: Declaration, planned: Sequence[Planned], rotated: Sequence[SecretDrill], *,
                 wait_seconds: int, started_at: datetime, notes: Sequence[str]) -> DrillReport:
    """The results in the declaration's order: those known before starting, and the rotations."""
    by_name = {item.name: item for item in rotated}
    results = tuple(by_name[item.name] if isinstance(item, Ready) else item for item in planned
                    if not isinstance(item, Ready) or item.name in by_name)
    return DrillReport(environment=declaration.environment, security_account=declaration.security_account,
                       region=declaration.primary_region, wait_seconds=wait_seconds, started_at=started_at,
                       secrets=results, notes=tuple(dict.fromkeys(notes)))
