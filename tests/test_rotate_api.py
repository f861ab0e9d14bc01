"""The rotation drill's API sequence where moto falls short, against botocore's Stubber: every request's
parameters are checked, every response against the service's model (Secrets Manager, CloudWatch Logs,
CloudTrail). A replica that lags or fails (moto copies a primary's versions at once), a rotation
function's log as Lambda writes it (moto ignores filter patterns), RotationFailed from LookupEvents
(moto has none), a version given up, a log that cannot be read; the clock is a fake one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from cloudtrail_records import rotation_record
from secrets_layout.audit.collect import AwsClients
from secrets_layout.audit.errors import ReadOnlyViolation
from secrets_layout.declaration.models import Declaration
from secrets_layout.drill.model import Outcome, ReplicaState
from secrets_layout.drill.run import CALLER, Drill, Ready, drill_report, plan_drill
from secrets_layout.drill.waiting import Clock, Pace, Waiting

ACCOUNT = "111111111111"
PRIMARY, REPLICA = "us-east-1", "us-west-2"
NAME = "staging/payments/stripe-api-key"
ARN = f"arn:aws:secretsmanager:{PRIMARY}:{ACCOUNT}:secret:{NAME}-AbCdEf"
FUNCTION = "staging-rotation-api-key-rotator-4f2a1b7"
FUNCTION_ARN = f"arn:aws:lambda:{PRIMARY}:{ACCOUNT}:function:{FUNCTION}"
GROUP = f"/aws/lambda/{FUNCTION}"
OLD, NEW = "a1b2c3d4-0000-4000-8000-000000000001", "e5f6a7b8-0000-4000-8000-000000000002"
REQUEST = "9f0e1d2c-3b4a-4596-8877-665544332211"
START = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
PATTERN = f'?"{ARN}" ?"{NEW}" ?ERROR ?"Task timed out"'
FROM_MS = int((START - timedelta(seconds=10)).timestamp() * 1000)

DECLARATION = Declaration.model_validate({
    "environment": "staging", "security_account": ACCOUNT, "primary_region": PRIMARY,
    "secrets": [{"name": NAME, "kind": "api-key", "value": {"external": True}, "replicas": [REPLICA],
                 "rotation": {"lambda_arn": FUNCTION_ARN, "every_days": 30}}],
})


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.seconds, now=lambda: START + timedelta(seconds=self.seconds),
                     sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


class Stubs:
    """One stubbed client per (service, region), handed to the drill through AwsClients' overrides."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    def __call__(self, service: str, region: str) -> Stubber:
        if (service, region) not in self.stubbers:
            client = boto3.client(service, region_name=region, aws_access_key_id="testing",
                                  aws_secret_access_key="testing")
            self.stubbers[(service, region)] = Stubber(client)
            self.stubbers[(service, region)].activate()
        return self.stubbers[(service, region)]

    def clients(self) -> AwsClients:
        services = ("secretsmanager", "logs", "cloudtrail")
        return AwsClients(overrides={service: (lambda region, service=service: self(service, region).client)
                                     for service in services}, caller=CALLER)

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def described(stages: dict[str, list[str]], *, replicas: list[dict] | None = None, arn: str = ARN) -> dict:
    answer = {"ARN": arn, "Name": NAME, "RotationEnabled": True, "RotationLambdaARN": FUNCTION_ARN,
              "RotationRules": {"AutomaticallyAfterDays": 30}, "VersionIdsToStages": stages}
    if replicas is not None:
        answer["ReplicationStatus"] = replicas
    return answer


def log_events(*messages: tuple[int, str]) -> dict:
    """FilterLogEvents' answer: (seconds after START, message) as Lambda's text format writes them."""
    return {"events": [{"logStreamName": "2026/11/30/[$LATEST]0123456789abcdef", "eventId": str(index),
                        "timestamp": int((START + timedelta(seconds=offset)).timestamp() * 1000),
                        "ingestionTime": int((START + timedelta(seconds=offset)).timestamp() * 1000),
                        "message": message} for index, (offset, message) in enumerate(messages)],
            "searchedLogStreams": []}


def lookup(records: list[dict]) -> dict:
    return {"Events": [{"EventId": record["eventID"], "EventName": record["eventName"], "ReadOnly": "false",
                        "EventTime": datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
                        "EventSource": record["eventSource"], "CloudTrailEvent": json.dumps(record)}
                       for record in records]}


def expect_start(stubs: Stubs, *, replicas: list[dict] | None = None) -> None:
    secrets = stubs("secretsmanager", PRIMARY)
    secrets.add_response("describe_secret", described({OLD: ["AWSCURRENT"]}, replicas=replicas), {"SecretId": NAME})
    secrets.add_response("rotate_secret", {"ARN": ARN, "Name": NAME, "VersionId": NEW},
                         {"SecretId": ARN, "ClientRequestToken": NEW, "RotateImmediately": True})


def expect_look(stubs: Stubs, stages: dict[str, list[str]], log: dict | Exception | None = None,
                from_ms: int = FROM_MS) -> None:
    stubs("secretsmanager", PRIMARY).add_response("describe_secret", described(stages), {"SecretId": ARN})
    if log is None:
        return
    logs = stubs("logs", PRIMARY)
    expected = {"logGroupName": GROUP, "startTime": from_ms, "filterPattern": PATTERN}
    if isinstance(log, Exception):
        logs.add_client_error("filter_log_events", service_error_code=log.args[0], service_message=log.args[1],
                              http_status_code=400, expected_params=expected)
    else:
        logs.add_response("filter_log_events", log, expected)


def expect_trail(stubs: Stubs, records: list[dict], *, at: float) -> None:
    stubs("cloudtrail", PRIMARY).add_response(
        "lookup_events", lookup(records),
        {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "RotationFailed"}],
         "StartTime": START - timedelta(seconds=10), "EndTime": START + timedelta(seconds=at)})


def drill(stubs: Stubs, clock: FakeClock, *, wait: int = 60, pace: Pace = Pace()):
    """The drill as the command runs it, on the stubs; (report, progress phases, notes)."""
    phases: list[str] = []
    notes: list[str] = []
    clients = stubs.clients()
    planned = plan_drill(DECLARATION, DECLARATION.secrets, clients)
    runner = Drill(clients, wait, Waiting(clock.clock(), pace), phases.append, notes.append, new_token=lambda: NEW)
    rotated = runner.rotate_all([item for item in planned if isinstance(item, Ready)])
    report = drill_report(DECLARATION, planned, rotated, wait_seconds=wait, started_at=START, notes=notes)
    stubs.assert_all_used()
    return report, phases, notes


# --- success, and replicas ----------------------------------------------------------------------------------


def test_a_rotation_then_a_replica_that_lags_then_catches_up():
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs, replicas=[{"Region": REPLICA, "Status": "InSync"}])
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}, log_events())
    expect_look(stubs, {OLD: ["AWSPREVIOUS"], NEW: ["AWSCURRENT"]})  # 1 s later
    primary = stubs("secretsmanager", PRIMARY)
    primary.add_response("describe_secret", described({NEW: ["AWSCURRENT"]}, replicas=[
        {"Region": REPLICA, "Status": "InProgress", "StatusMessage": "Replication in progress"}]), {"SecretId": NAME})
    primary.add_response("describe_secret", described({NEW: ["AWSCURRENT"]}, replicas=[
        {"Region": REPLICA, "Status": "InSync", "StatusMessage": "Replication succeeded"}]), {"SecretId": NAME})
    stubs("secretsmanager", REPLICA).add_response(
        "describe_secret", described({OLD: ["AWSPREVIOUS"], NEW: ["AWSCURRENT"]},
                                     arn=ARN.replace(PRIMARY, REPLICA)), {"SecretId": NAME})

    report, phases, notes = drill(stubs, clock)

    [result] = report.secrets
    assert (result.outcome, result.version, result.previous_version, result.current_moved, result.seconds,
            result.function) == (Outcome.SUCCEEDED, NEW, OLD, True, 1.0, FUNCTION)
    assert result.replicas == (ReplicaState(REPLICA, "InSync", True, "Replication succeeded"),)
    assert report.succeeded and notes == []
    assert phases == [f"{NAME}: starting its rotation", f"{NAME}: waiting for version {NEW} to become AWSCURRENT",
                      f"{NAME}: waiting for the replicas in {REPLICA}"]


def test_a_replica_whose_replication_failed_fails_the_drill_with_its_status_message():
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs)
    expect_look(stubs, {OLD: ["AWSPREVIOUS"], NEW: ["AWSCURRENT"]})
    message = "Replication failed: the KMS key arn:aws:kms:us-west-2:111111111111:key/abc is disabled"
    stubs("secretsmanager", PRIMARY).add_response("describe_secret", described({NEW: ["AWSCURRENT"]}, replicas=[
        {"Region": REPLICA, "Status": "Failed", "StatusMessage": message}]), {"SecretId": NAME})

    report, _, _ = drill(stubs, clock)

    [result] = report.secrets
    assert (result.outcome, result.current_moved) == (Outcome.FAILED, True)
    assert result.reason == f"rotated; replication failed: {REPLICA} Failed ({message})"
    assert result.what_to_do.startswith(f"the primary rotated but replication to {REPLICA} failed")


# --- failures -----------------------------------------------------------------------------------------------

FAILED_LINE = (f"createSecret failed for secret {ARN}, version {NEW}: ProviderError: create: "
               "https://keys.example.com/v1/keys answered HTTP 500")


def test_the_functions_logged_error_fails_the_rotation_and_cloudtrail_says_which_step():
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs)
    log = log_events(
        (1, f"START RequestId: {REQUEST} Version: $LATEST\n"),
        (1, f"[INFO]\t2026-11-30T12:00:01.100Z\t{REQUEST}\tcreateSecret: starting for secret {ARN}, version {NEW}\n"),
        (2, f"[ERROR]\t2026-11-30T12:00:02.200Z\t{REQUEST}\t{FAILED_LINE}\n"),
        (2, "[ERROR] ProviderError: create: https://keys.example.com/v1/keys answered HTTP 500\nTraceback (most "
            "recent call last):\n  File \"/var/task/handler.py\", line 101, in lambda_handler\n"),
        (2, f"END RequestId: {REQUEST}\n"))
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}, log)
    # The last read goes on from the newest line, and asks CloudTrail whatever the pace.
    stubs("logs", PRIMARY).add_response(
        "filter_log_events", log_events(), {"logGroupName": GROUP, "filterPattern": PATTERN,
                                            "startTime": int((START + timedelta(seconds=2)).timestamp() * 1000)})
    record = rotation_record("RotationFailed", ARN, START + timedelta(seconds=3), region=PRIMARY, account=ACCOUNT)
    record["errorMessage"] = f"Error when executing lambda {FUNCTION_ARN} during createSecret step"
    expect_trail(stubs, [record], at=0)

    report, _, notes = drill(stubs, clock)

    [result] = report.secrets
    assert (result.outcome, result.current_moved, result.seconds) == (Outcome.FAILED, False, 0.0)
    assert result.reason == f"the function logged: {FAILED_LINE}"
    assert (result.function_error.group, result.function_error.time) == (GROUP, START + timedelta(seconds=2))
    assert result.rotation_failed.message == f"Error when executing lambda {FUNCTION_ARN} during createSecret step"
    assert result.what_to_do.startswith(f"readers keep the current value (AWSCURRENT did not move); fix the cause "
                                        f"(`aws logs tail {GROUP} --since 1h --region {PRIMARY}`): Secrets Manager "
                                        f"retries the rotation of version {NEW}")
    assert not report.succeeded and notes == []


def test_with_the_log_refused_cloudtrail_alone_tells_the_failure_at_its_own_pace():
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs)
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]},
                Exception("AccessDeniedException", "User is not authorized to perform: logs:FilterLogEvents"))
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]})  # 10 s: CloudTrail is not due yet
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]})  # 20 s: it is
    record = rotation_record("RotationFailed", ARN, START + timedelta(seconds=5), region=PRIMARY, account=ACCOUNT)
    expect_trail(stubs, [record], at=20)
    expect_trail(stubs, [record], at=20)

    report, _, notes = drill(stubs, clock, pace=Pace(first=(), steady=10, trail_every=20))

    [result] = report.secrets
    assert (result.outcome, result.seconds) == (Outcome.FAILED, 20.0)
    assert result.reason.startswith("CloudTrail RotationFailed at 2026-11-30 12:00:05 UTC: Error when executing lambda")
    assert notes == [f"CloudWatch Logs {GROUP} ({PRIMARY}) not read: AccessDeniedException: User is not authorized "
                     "to perform: logs:FilterLogEvents"]


def test_a_version_given_up_by_the_function_is_a_failure_found_in_the_deprecated_versions():
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs)
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}, log_events())
    expect_look(stubs, {OLD: ["AWSCURRENT"]}, log_events())
    stubs("secretsmanager", PRIMARY).add_response(
        "list_secret_version_ids", {"ARN": ARN, "Name": NAME, "Versions": [
            {"VersionId": OLD, "VersionStages": ["AWSCURRENT"]}, {"VersionId": NEW}]},
        # A version without labels has no VersionStages (at least 1 in the model).
        {"SecretId": ARN, "IncludeDeprecated": True})
    stubs("logs", PRIMARY).add_response("filter_log_events", log_events(),
                                        {"logGroupName": GROUP, "startTime": FROM_MS, "filterPattern": PATTERN})
    expect_trail(stubs, [], at=1)

    report, _, _ = drill(stubs, clock)

    [result] = report.secrets
    assert result.outcome is Outcome.FAILED
    assert result.reason == f"version {NEW} lost AWSPENDING without becoming AWSCURRENT: the rotation was given up"
    assert result.what_to_do.startswith("readers keep the current value (AWSCURRENT did not move) and the function "
                                        "gave the version up")


# --- not finished -------------------------------------------------------------------------------------------


def test_a_timeout_that_names_nothing_of_the_rotation_is_a_hint_not_a_verdict():
    """An invocation that timed out before logging anything: its line names no secret. The rotation is not
    called failed for it (the function may serve other secrets), and --wait elapses."""
    stubs, clock = Stubs(), FakeClock()
    expect_start(stubs)
    timed_out = log_events((3, f"2026-11-30T12:00:03.000Z {REQUEST} Task timed out after 3.00 seconds\n"))
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}, timed_out)
    expect_look(stubs, {OLD: ["AWSCURRENT"], NEW: ["AWSPENDING"]}, log_events(),
                from_ms=int((START + timedelta(seconds=3)).timestamp() * 1000))
    stubs("logs", PRIMARY).add_response("filter_log_events", log_events(), {
        "logGroupName": GROUP, "filterPattern": PATTERN,
        "startTime": int((START + timedelta(seconds=3)).timestamp() * 1000)})
    expect_trail(stubs, [], at=5)

    report, _, _ = drill(stubs, clock, wait=5, pace=Pace(first=(), steady=10))

    [result] = report.secrets
    assert (result.outcome, result.seconds) == (Outcome.NOT_FINISHED, 5.0)
    assert result.reason == (f"version {NEW} did not become AWSCURRENT within 5 s; the function's log since the start "
                             "has, naming nothing of this rotation: Task timed out after 3.00 seconds")
    assert result.what_to_do.startswith("nothing was cancelled, the rotation goes on in AWS")


# --- reading no value ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["get_secret_value", "batch_get_secret_value"])
def test_the_drills_clients_refuse_to_read_a_value_before_any_request(monkeypatch, operation):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Port 9 (discard) on loopback: were the call sent, it would fail otherwise.
    client = AwsClients(endpoint_url="http://127.0.0.1:9", caller=CALLER)("secretsmanager", PRIMARY)
    arguments = {"SecretId": NAME} if operation == "get_secret_value" else {"SecretIdList": [NAME]}

    with pytest.raises(ReadOnlyViolation, match="^the rotation drill never calls (Batch)?GetSecretValue: it must not "
                                                "read secret values$"):
        getattr(client, operation)(**arguments)


# --- RotateSecret refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "message", "outcome", "advice"), [
    # A rotation began between the look and the start: reported, not started again.
    ("InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.",
     Outcome.ALREADY_ROTATING, f"run the drill again once it has finished (`aws secretsmanager describe-secret "
                               f"--secret-id {NAME} --region {PRIMARY}`)"),
    ("AccessDeniedException", "User: arn:aws:sts::111111111111:assumed-role/Drill/s is not authorized to perform: "
                              "secretsmanager:RotateSecret", Outcome.NOT_STARTED,
     "use credentials allowed to call secretsmanager:RotateSecret on this secret"),
])
def test_a_refused_rotate_secret_is_reported_with_awss_words(code, message, outcome, advice):
    stubs, clock = Stubs(), FakeClock()
    secrets = stubs("secretsmanager", PRIMARY)
    secrets.add_response("describe_secret", described({OLD: ["AWSCURRENT"]}), {"SecretId": NAME})
    secrets.add_client_error("rotate_secret", service_error_code=code, service_message=message, http_status_code=400,
                             expected_params={"SecretId": ARN, "ClientRequestToken": NEW, "RotateImmediately": True})

    report, _, _ = drill(stubs, clock)

    [result] = report.secrets
    assert (result.outcome, result.reason) == (outcome, f"RotateSecret: {code}: {message}")
    assert result.what_to_do.startswith(advice)
