"""The audit's decisions as pure functions: one passing and one failing case per rule."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from secrets_layout.audit.analysis import (
    LiveReplica,
    LiveSecret,
    RotationFailure,
    normalise_policy,
    policy_differences,
    replica_findings,
    rotation_findings,
    stuck_versions,
    tag_differences,
    unread_finding,
)
from secrets_layout.audit.collect import live_secret
from secrets_layout.audit.errors import AuditError, AuditUsageError
from secrets_layout.audit.access import secret_name_of
from secrets_layout.audit.options import parse_date, period
from secrets_layout.audit.trail import athena_query, athena_records, events_from_records, parse_s3_uri
from components_support import declaration

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
ROTATOR = "arn:aws:lambda:us-east-1:111111111111:function:rotator"


def secret(**rotation):
    return declaration(secrets=[{
        "name": "test/app/key", "kind": "api-key", "value": {"external": True},
        "rotation": rotation or {"lambda_arn": ROTATOR, "every_days": 30}, "replicas": ["us-west-2"],
        "readers": [{"account": "app", "roles": ["AppRole"]}],
    }]).secrets[0]


def live(**fields):
    base = {"name": "test/app/key", "arn": "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key-AbCdEf",
            "region": "us-east-1", "rotation_enabled": True, "rotation_rules": {"AutomaticallyAfterDays": 30},
            "last_rotated": NOW - timedelta(days=10)}
    return LiveSecret(**{**base, **fields})


def kinds(findings):
    return [finding.kind for finding in findings]


@pytest.mark.parametrize("declared, state, expected", [
    (secret(), {}, []),
    (secret(), {"rotation_enabled": False, "rotation_rules": {}}, ["rotation-disabled"]),
    (secret(enabled=False, reason="vendor rotates it"), {}, ["rotation-unexpected"]),
    (secret(enabled=False, reason="vendor rotates it"), {"rotation_enabled": False, "last_rotated": None}, []),
    (secret(), {"last_rotated": None}, ["rotation-never-rotated"]),
    (secret(), {"last_rotated": NOW - timedelta(days=91)}, ["rotation-overdue"]),
    (secret(), {"last_rotated": NOW - timedelta(days=89)}, []),
    (secret(), {"rotation_rules": {"AutomaticallyAfterDays": 60}}, ["rotation-schedule-drift"]),
    (secret(), {"rotation_rules": {"ScheduleExpression": "rate(30 days)"}}, []),
    (secret(lambda_arn=ROTATOR, schedule="cron(0 4 ? * SUN *)", window="3h"),
     {"rotation_rules": {"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "3h"}}, []),
    (secret(lambda_arn=ROTATOR, schedule="cron(0 4 ? * SUN *)", window="3h"),
     {"rotation_rules": {"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "2h"}}, ["rotation-schedule-drift"]),
    (None, {"rotation_enabled": False, "last_rotated": None}, []),
])
def test_rotation_discipline(declared, state, expected):
    assert kinds(rotation_findings(declared, live(**state), now=NOW, maximum_days=90)) == expected


@pytest.mark.parametrize("failure_days_ago, expected", [(5, ["rotation-failed"]), (15, [])])
def test_a_failure_counts_only_after_the_last_successful_rotation(failure_days_ago, expected):
    failure = RotationFailure(NOW - timedelta(days=failure_days_ago), "Error during testSecret step")
    assert kinds(rotation_findings(secret(), live(), now=NOW, maximum_days=90, failure=failure)) == expected


@pytest.mark.parametrize("stages, age_hours, expected", [
    ({"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]}, 25, ["v2"]),
    ({"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]}, 1, []),
    ({"v1": ["AWSCURRENT", "AWSPENDING"]}, 48, []),
    ({"v1": ["AWSCURRENT"], "v2": ["AWSPREVIOUS"]}, 48, []),
])
def test_stuck_rotation_is_awspending_left_longer_than_a_rotation_window(stages, age_hours, expected):
    state = live(version_stages=stages, version_created={v: NOW - timedelta(hours=age_hours) for v in stages})
    assert stuck_versions(state, NOW) == expected


EXPECTED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadApp", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/AppRole"},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
        {"Sid": "DenyOutside", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}}},
    ],
}


@pytest.mark.parametrize("live_policy, expected", [
    (EXPECTED_POLICY, []),
    # Same meaning, AWS's other forms: statements reordered, one-element lists, values reordered.
    ({"Version": "2012-10-17", "Statement": [
        {**EXPECTED_POLICY["Statement"][1], "Condition": {"StringNotEquals": {
            "aws:PrincipalAccount": ["222222222222", "111111111111"]}}},
        {**EXPECTED_POLICY["Statement"][0], "Action": ["secretsmanager:GetSecretValue"]},
    ]}, []),
    ({"Version": "2012-10-17", "Statement": [
        {**EXPECTED_POLICY["Statement"][0], "Principal": {"AWS": [
            "arn:aws:iam::222222222222:role/AppRole", "arn:aws:iam::999999999999:role/Intruder"]}},
        EXPECTED_POLICY["Statement"][1],
    ]}, ["statement ReadApp: Principal.AWS has arn:aws:iam::999999999999:role/Intruder (not deployed by the program)"]),
    ({"Version": "2012-10-17", "Statement": [EXPECTED_POLICY["Statement"][0]]}, ["statement DenyOutside is missing"]),
    (None, ["the secret has no resource policy (readers cannot read it; the deny statements are gone)"]),
])
def test_policies_compare_by_meaning_not_text(live_policy, expected):
    assert policy_differences(EXPECTED_POLICY, live_policy) == expected


json_scalars = st.one_of(st.text(max_size=8), st.integers(), st.booleans())
documents = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, min_size=1, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)),
    max_leaves=20)


@given(documents, st.randoms())
def test_normalisation_ignores_list_order_and_duplicates(document, random):
    def shuffled(value):
        if isinstance(value, dict):
            return {key: shuffled(item) for key, item in value.items()}
        if isinstance(value, list):
            items = [shuffled(item) for item in value]
            random.shuffle(items)
            return items + items[:1]
        return value

    assert normalise_policy(shuffled(document)) == normalise_policy(document)
    assert json.loads(json.dumps(normalise_policy(document))) == normalise_policy(document)


@pytest.mark.parametrize("live_tags, expected", [
    ({"environment": "test", "owner": "a", "aws:cloudformation:stack-name": "x"}, []),
    ({"environment": "prod", "owner": "a"}, ["tag environment is 'prod', expected 'test'"]),
    ({"environment": "test"}, ["tag owner is missing"]),
    ({"environment": "test", "owner": "a", "extra": "1"}, ["tag extra was added"]),
])
def test_tags(live_tags, expected):
    assert tag_differences({"environment": "test", "owner": "a"}, live_tags) == expected


KEYS = {"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1", "us-west-2": "arn:aws:kms:us-west-2:111111111111:key/k2"}


@pytest.mark.parametrize("replicas, expected", [
    ((LiveReplica("us-west-2", "InSync", None, KEYS["us-west-2"]),), []),
    ((), ["replica-missing"]),
    ((LiveReplica("us-west-2", "Failed", "Replication failed: a secret of that name exists", KEYS["us-west-2"]),),
     ["replica-not-in-sync"]),
    ((LiveReplica("us-west-2", "InSync", None, None),), ["replica-key-drift"]),
    ((LiveReplica("us-west-2", "InSync", None, KEYS["us-west-2"]), LiveReplica("eu-west-1", "InSync", None, None)),
     ["replica-unexpected"]),
])
def test_replicas(replicas, expected):
    assert kinds(replica_findings(secret(), live(replicas=replicas), KEYS)) == expected


@pytest.mark.parametrize("state, expected", [
    ({"last_accessed": NOW - timedelta(days=3)}, None),
    ({"last_accessed": NOW - timedelta(days=100)}, "not read since 2026-08-22 (more than 90 days)"),
    ({"last_accessed": None, "created": NOW - timedelta(days=10)}, None),
    ({"last_accessed": None, "created": NOW - timedelta(days=200)}, "never read (more than 90 days)"),
])
def test_unread_secrets(state, expected):
    finding = unread_finding(live(**state), now=NOW, unread_days=90)
    assert (finding.message.split(":")[0] if finding else None) == expected


@pytest.mark.parametrize("reference, name", [
    ("test/app/key", "test/app/key"),
    ("arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key-AbCdEf", "test/app/key"),
    ("arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key", "test/app/key"),
])
def test_secret_names_from_what_callers_pass(reference, name):
    assert secret_name_of(reference) == name


def test_describe_secret_response_becomes_a_live_secret():
    description = {
        "ARN": "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key-AbCdEf", "Name": "test/app/key",
        "KmsKeyId": "alias/secrets/test", "RotationEnabled": True, "RotationRules": {"AutomaticallyAfterDays": 30},
        "LastRotatedDate": NOW, "Tags": [{"Key": "environment", "Value": "test"}],
        "ReplicationStatus": [{"Region": "us-west-2", "KmsKeyId": "alias/aws/secretsmanager", "Status": "InSync"}],
        "VersionIdsToStages": {"v1": ["AWSCURRENT"]},
    }
    resolved = live_secret(description, region="us-east-1", policy_text=json.dumps(EXPECTED_POLICY),
                           resolve_key=lambda region, reference: f"{region}:{reference}" if reference else None)
    assert (resolved.kms_key_arn, resolved.replicas[0].kms_key_arn) == ("us-east-1:alias/secrets/test", None)
    assert resolved.tags == {"environment": "test"} and resolved.policy == EXPECTED_POLICY


@pytest.mark.parametrize("text, end, expected", [
    ("2026-11-01", False, datetime(2026, 11, 1, tzinfo=timezone.utc)),
    ("2026-11-01", True, datetime(2026, 11, 2, tzinfo=timezone.utc)),
    ("2026-11-01T10:00:00Z", False, datetime(2026, 11, 1, 10, tzinfo=timezone.utc)),
    ("2026-11-01T10:00:00+02:00", False, datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
])
def test_dates(text, end, expected):
    assert parse_date(text, "--since", end=end) == expected


@given(st.text(max_size=12))
def test_any_text_is_a_date_or_a_usage_error(text):
    try:
        parse_date(text, "--since")
    except AuditUsageError as error:
        assert "is not a date" in str(error) or "is out of range" in str(error)


def test_the_default_period_is_the_last_90_days():
    assert period(None, None, NOW) == (NOW - timedelta(days=90), NOW)


@pytest.mark.parametrize("uri, expected", [
    ("s3://org-trail", ("org-trail", "")),
    ("s3://org-trail/logs/", ("org-trail", "logs/")),
])
def test_s3_uris(uri, expected):
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["org-trail", "s3://", "s3://UPPER", "https://org-trail.s3.amazonaws.com"])
def test_bad_s3_uris(uri):
    with pytest.raises(AuditUsageError, match="is not an S3 URI"):
        parse_s3_uri(uri)


# --- Athena (moto does not run queries: botocore's Stubber answers, checked against Athena's model) ----

def athena_client():
    import boto3

    return boto3.client("athena", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_athena_rows_become_records():
    client = athena_client()
    query = athena_query("cloudtrail_logs", account="111111111111", since=NOW - timedelta(days=30), until=NOW)
    with Stubber(client) as stubber:
        stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                             {"QueryString": query, "WorkGroup": "audit"})
        stubber.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}},
                             {"QueryExecutionId": "q-1"})
        stubber.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                             {"QueryExecutionId": "q-1"})
        header = ["eventid", "eventtime", "eventsource", "eventname", "awsregion", "principal", "accountid",
                  "errorcode", "errormessage", "requestparameters", "additionaleventdata"]
        read = ["e-1", "2026-11-20T10:00:00Z", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1",
                "arn:aws:iam::222222222222:role/AppRole", "222222222222", None, None,
                '{"secretId":"test/app/key","versionStage":"AWSCURRENT"}', None]
        refused_decrypt = ["e-2", "2026-11-20T11:00:00Z", "kms.amazonaws.com", "Decrypt", "us-east-1",
                           "arn:aws:iam::222222222222:role/AppRole", "222222222222", "AccessDenied",
                           "not authorized to perform: kms:Decrypt",
                           '{"encryptionContext":{"SecretARN":"arn:aws:secretsmanager:us-east-1:111111111111:'
                           'secret:test/app/key-AbCdEf","SecretVersionId":"v1"}}', None]
        stubber.add_response("get_query_results", {"ResultSet": {"Rows": [
            {"Data": [{"VarCharValue": value} for value in header]},
            *({"Data": [{"VarCharValue": value} if value is not None else {} for value in row]}
              for row in (read, refused_decrypt)),
        ]}}, {"QueryExecutionId": "q-1"})
        records = list(athena_records(client, workgroup="audit", query=query, sleep=lambda seconds: None))
    found = events_from_records(records)
    assert [(event.secret, event.principal, event.account, event.event_id) for event in found.access] == [
        ("test/app/key", "arn:aws:iam::222222222222:role/AppRole", "222222222222", "e-1")]
    assert [(denial.secret_arn, denial.principal) for denial in found.kms_denials] == [
        ("arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key-AbCdEf",
         "arn:aws:iam::222222222222:role/AppRole")]
    assert "OR (eventsource = 'kms.amazonaws.com' AND eventname = 'Decrypt' AND errorcode IS NOT NULL)" in query
    assert "recipientaccountid = '111111111111'" in query and "FROM cloudtrail_logs " in query


def test_a_failed_athena_query_is_an_audit_error():
    client = athena_client()
    with Stubber(client) as stubber:
        stubber.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
        stubber.add_response("get_query_execution", {"QueryExecution": {"Status": {
            "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: line 1:1: Table cloudtrail_logs does not exist"}}})
        with pytest.raises(AuditError, match="the Athena query q-2 in workgroup audit failed: TABLE_NOT_FOUND"):
            list(athena_records(client, workgroup="audit", query="SELECT 1", sleep=lambda seconds: None))
