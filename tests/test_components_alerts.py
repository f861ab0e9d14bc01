"""Rotation alerts: the pure decisions, the resources under the mock engine, and the event pattern
against the events Secrets Manager documents, matched by moto's EventBridge pattern matcher
(moto.events.models.EventPattern, a maintained implementation of EventBridge's matching rules)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.components.alerts import (
    alert_topic_policy,
    eventbridge_key_statement,
    rotation_alert_pattern,
)
from secrets_layout.components.policy_documents import kms_key_policy
from cloudtrail_records import rotation_record
from components_support import declaration, policy_of, run_components, urn_name
from declaration_support import PROD_ALERTS
from secrets_layout.declaration.cost import estimate

ACCOUNT = "111111111111"
ALERTS = "secrets-layout:alerts:RotationAlerts"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

SECRET = {"name": "test/app/key", "kind": "api-key", "value": {"external": True}, "replicas": ["us-west-2"],
          "rotation": {"lambda_arn": "arn:aws:lambda:us-east-1:111111111111:function:rotator", "every_days": 30}}
CREATED_TOPIC = {"topic": {"subscriptions": [{"protocol": "email", "endpoint": "secops@example.com"},
                                             {"protocol": "https", "endpoint": "https://alerts.example.com/hook"}]}}


def rotation_event(event_name: str, secret_arn: str | None, region: str = "us-east-1") -> dict:
    """A Secrets Manager rotation record (audit_support.rotation_record cites its shape) inside
    EventBridge's envelope for CloudTrail service events
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html)."""
    detail = rotation_record(event_name, secret_arn, datetime(2026, 11, 1, 0, 50, 20, tzinfo=timezone.utc),
                             region=region, account=ACCOUNT)
    return {"version": "0", "id": "d82e0a2d-f36e-11fd-37cb-cba423a71196", "detail-type": "AWS Service Event via CloudTrail",
            "source": "aws.secretsmanager", "account": ACCOUNT, "time": "2026-11-01T00:50:20Z", "region": region,
            "resources": [], "detail": detail}


def api_call_event(event_name: str, secret_arn: str) -> dict:
    """An API call (https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html)."""
    return {"version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.secretsmanager",
            "account": ACCOUNT, "time": "2026-11-01T00:50:20Z", "region": "us-east-1", "resources": [],
            "detail": {"eventSource": "secretsmanager.amazonaws.com", "eventName": event_name,
                       "requestParameters": {"secretId": secret_arn}}}


EAST = "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/key-AbCdEf"
WEST = "arn:aws:secretsmanager:us-west-2:111111111111:secret:test/app/key-AbCdEf"


@pytest.mark.parametrize("event, matches", [
    (rotation_event("RotationFailed", EAST), True),
    (rotation_event("RotationAbandoned", EAST), True),
    (rotation_event("RotationFailed", WEST, region="us-west-2"), True),
    (rotation_event("RotationFailed", None), True),  # a shape without SecretId still alerts
    (rotation_event("RotationSucceeded", EAST), False),
    (rotation_event("RotationStarted", EAST), False),
    (rotation_event("RotationFailed", "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/app/key-AbCdEf"), False),
    (rotation_event("RotationFailed", "arn:aws:secretsmanager:us-east-1:222222222222:secret:test/app/key-AbCdEf"), False),
    (rotation_event("RotationFailed", "arn:aws:secretsmanager:eu-west-1:111111111111:secret:test/app/key-AbCdEf",
                    region="eu-west-1"), False),
    (api_call_event("RotateSecret", EAST), False),
])
def test_the_pattern_matches_this_environments_failed_and_abandoned_rotations_only(event, matches):
    pattern = rotation_alert_pattern(environment="test", security_account=ACCOUNT, regions=["us-east-1", "us-west-2"])
    assert EventPattern.load(json.dumps(pattern)).matches_event(event) is matches


def test_the_topic_policy_lets_only_the_hub_rule_publish():
    policy = alert_topic_policy(topic_arn="arn:aws:sns:us-east-1:111111111111:t",
                                rule_arn="arn:aws:events:us-east-1:111111111111:rule/r", security_account=ACCOUNT)
    publish = policy["Statement"][1]
    assert publish == {
        "Sid": "EventBridgePublishesRotationAlerts", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:111111111111:t",
        "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111111111111:rule/r"}},
    }


def test_the_key_policy_carries_the_eventbridge_statement_after_its_own():
    policy = kms_key_policy(
        region="us-east-1",
        security_account=ACCOUNT,
        reader_roles=[("222222222222", "AppRole")],
        service_statements=[eventbridge_key_statement()],
    )
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert sids == ["SecurityAccountAdministers", "ReaderRolesDecryptViaSecretsManager", "EventBridgePublishesToEncryptedTopics"]


def layout_of(declared):
    return run_components(lambda: SecretsLayout("test", SecretsLayoutArgs(declaration=declared)))


def tree_of(run, type_):
    return sorted((resource.name, urn_name(resource.parent)) for resource in run.by_type(type_))


def test_a_created_topic_with_rules_in_every_region():
    run = layout_of(declaration(secrets=[SECRET], alerts=CREATED_TOPIC))

    assert tree_of(run, ALERTS) == [("test-alerts", "test")]
    assert tree_of(run, TOPIC) == [("test-alerts-topic", "test-alerts")]
    assert tree_of(run, RULE) == [("test-alerts-rule-us-east-1", "test-alerts"), ("test-alerts-rule-us-west-2", "test-alerts")]
    assert len(run.by_type(SUBSCRIPTION)) == 2
    topic = run.get("test-alerts-topic")
    assert topic.inputs["kmsMasterKeyId"] == run.get("test-kms-us-east-1-key").outputs["arn"]
    assert topic.inputs["name"] == "secrets-layout-test-alerts"
    east, west = run.get("test-alerts-target-us-east-1"), run.get("test-alerts-target-us-west-2")
    assert east.inputs["arn"] == "arn:aws:sns:us-east-1:111111111111:secrets-layout-test-alerts"
    assert west.inputs["arn"] == "arn:aws:events:us-east-1:111111111111:event-bus/default"
    assert west.inputs["roleArn"] == run.get("test-alerts-forward-role").outputs["arn"]
    rule = run.get("test-alerts-rule-us-west-2")
    assert json.loads(rule.inputs["eventPattern"])["detail"]["eventName"] == ["RotationFailed", "RotationAbandoned"]
    topic_policy = policy_of(run.get("test-alerts-topic-policy"))
    assert topic_policy["Statement"][1]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111111111111:rule/secrets-layout-test-rotation-alerts"}}
    forward = policy_of(run.get("test-alerts-forward-policy"))
    assert forward["Statement"][0]["Resource"] == "arn:aws:events:us-east-1:111111111111:event-bus/default"
    key_sids = [statement["Sid"] for statement in policy_of(run.get("test-kms-us-east-1-key"))["Statement"]]
    assert key_sids[-1] == "EventBridgePublishesToEncryptedTopics"
    west_sids = [statement["Sid"] for statement in policy_of(run.get("test-kms-us-west-2-key"))["Statement"]]
    assert "EventBridgePublishesToEncryptedTopics" not in west_sids


def test_an_existing_topic_gets_rules_only_and_the_key_is_left_alone():
    run = layout_of(declaration(secrets=[SECRET], alerts={"topic_arn": "arn:aws:sns:us-west-2:111111111111:secops"}))

    assert run.by_type(TOPIC) == [] and run.by_type(TOPIC_POLICY) == []
    hub, other = run.get("test-alerts-target-us-west-2"), run.get("test-alerts-target-us-east-1")
    assert hub.inputs["arn"] == "arn:aws:sns:us-west-2:111111111111:secops"
    assert other.inputs["arn"] == "arn:aws:events:us-west-2:111111111111:event-bus/default"
    key_sids = [statement["Sid"] for statement in policy_of(run.get("test-kms-us-east-1-key"))["Statement"]]
    assert "EventBridgePublishesToEncryptedTopics" not in key_sids


def test_a_single_region_layout_needs_no_forwarding_role():
    run = layout_of(declaration(secrets=[{**SECRET, "replicas": []}], alerts=CREATED_TOPIC))
    assert run.by_type(ROLE) == [] and run.by_type(ROLE_POLICY) == []
    assert tree_of(run, RULE) == [("test-alerts-rule-us-east-1", "test-alerts")]


def test_no_alerts_no_resources():
    run = layout_of(declaration(secrets=[SECRET]))
    assert run.by_type(ALERTS) == [] and run.by_type(RULE) == []


@pytest.mark.parametrize("alerts, message", [
    ({}, "give exactly one of topic"),
    ({**CREATED_TOPIC, "topic_arn": "arn:aws:sns:us-east-1:111111111111:x"}, "give exactly one of topic"),
    ({"topic": {"subscriptions": [{"protocol": "email", "endpoint": "not-an-address"}]}},
     "protocol email needs an email address as its endpoint"),
    ({"topic": {"subscriptions": [{"protocol": "https", "endpoint": "http://plain.example.com"}]}},
     "needs an https:// URL"),
    ({"topic": {"subscriptions": [{"protocol": "sqs", "endpoint": "my-queue"}]}}, "needs an SQS queue ARN"),
    ({"topic_arn": "secops"}, "String should match pattern"),
    ({"topic_arn": "arn:aws:sns:eu-central-1:111111111111:secops"},
     r"the topic_arn is in eu-central-1, which is not a region of this layout \(us-east-1, us-west-2\)"),
])
def test_invalid_alerts_are_rejected(alerts, message):
    with pytest.raises(ValueError, match=message):
        declaration(secrets=[SECRET], alerts=alerts)


def test_alerts_are_costed():
    items = {item.what: item.monthly_usd for item in estimate(declaration(secrets=[SECRET], alerts=CREATED_TOPIC)).items}
    assert any(what.startswith("rotation alerts: 2 EventBridge rules") for what in items)
    assert any(what.startswith("rotation alerts: SNS topic secrets-layout-test-alerts") for what in items)


PROD = __import__("pathlib").Path(__file__).resolve().parent.parent / "environments" / "prod.yaml"


@pytest.mark.slow
def test_prod_with_alerts_previews_with_zero_violations(tmp_path):
    """The real preview: the program on the mock engine, then the real pack over the analyzer protocol."""
    from secrets_layout.preview import run_preview

    declared = tmp_path / "prod.yaml"
    declared.write_text(PROD.read_text(encoding="utf-8") + PROD_ALERTS, encoding="utf-8")

    # Kept outside the repository: its policy config is named (the default is the declaration's repository's).
    report = run_preview(declared, policy_config=Path(__file__).resolve().parent.parent / "policies" / "config" / "prod.json")

    types = {resource.change.type for resource in report.resources}
    assert {TOPIC, TOPIC_POLICY, SUBSCRIPTION, RULE, TARGET, ROLE} <= types
    assert [(violation.policy, violation.message) for violation in report.violations] == []
    assert any(item.what.startswith("rotation alerts") for item in report.cost.items)
