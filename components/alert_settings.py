"""Rotation alerts as data: names, ARNs, the event pattern and the policies (components/alerts.py and
its plan say why each looks so). Pure: nothing here touches Pulumi."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from secrets_layout.declaration.models import Alerts

ALERT_EVENTS = ("RotationFailed", "RotationAbandoned")
SERVICE_EVENT = "AWS Service Event via CloudTrail"
EVENTS_SERVICE = "events.amazonaws.com"
TOPIC_OWNER_ACTIONS = (
    "SNS:AddPermission", "SNS:DeleteTopic", "SNS:GetTopicAttributes", "SNS:ListSubscriptionsByTopic",
    "SNS:Publish", "SNS:RemovePermission", "SNS:SetTopicAttributes", "SNS:Subscribe",
)
"""What SNS's default topic policy gives the owner account; a TopicPolicy replaces that default."""


def alert_rule_name(environment: str) -> str:
    return f"secrets-layout-{environment}-rotation-alerts"


def alert_topic_name(environment: str, alerts: Alerts) -> str:
    return (alerts.topic.name if alerts.topic and alerts.topic.name else None) or f"secrets-layout-{environment}-alerts"


def forwarding_role_name(environment: str) -> str:
    return f"secrets-layout-{environment}-alert-forwarding"


def sns_topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def event_rule_arn(region: str, account: str, name: str) -> str:
    """A rule on the default bus: arn:aws:events:<region>:<account>:rule/<name>."""
    return f"arn:aws:events:{region}:{account}:rule/{name}"


def default_bus_arn(region: str, account: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/default"


def alert_topic_arn(environment: str, alerts: Alerts, *, primary_region: str, security_account: str) -> str:
    if alerts.topic_arn:
        return alerts.topic_arn
    return sns_topic_arn(primary_region, security_account, alert_topic_name(environment, alerts))


def hub_region(alerts: Alerts, primary_region: str) -> str:
    """Where the topic is, and so where every region's alerts meet."""
    return alerts.topic_arn.split(":")[3] if alerts.topic_arn else primary_region


def rotation_alert_pattern(*, environment: str, security_account: str, regions: Sequence[str]) -> dict[str, Any]:
    """The event pattern: failed or abandoned rotations of this environment's secrets, in these regions."""
    prefixes = [{"prefix": f"arn:aws:secretsmanager:{region}:{security_account}:secret:{environment}/"}
                for region in dict.fromkeys(regions)]
    return {
        "source": ["aws.secretsmanager"],
        "detail-type": [SERVICE_EVENT],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": list(ALERT_EVENTS),
            "$or": [
                {"additionalEventData": {"SecretId": prefixes}},
                {"additionalEventData": {"SecretId": [{"exists": False}]}},
            ],
        },
    }


def alert_topic_policy(*, topic_arn: str, rule_arn: str, security_account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SecurityAccountOwnsTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{security_account}:root"},
                "Action": list(TOPIC_OWNER_ACTIONS),
                "Resource": topic_arn,
            },
            {
                "Sid": "EventBridgePublishesRotationAlerts",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_SERVICE},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            },
        ],
    }


def eventbridge_key_statement() -> dict[str, Any]:
    """The key policy statement EventBridge needs to publish to a topic encrypted with that key."""
    return {
        "Sid": "EventBridgePublishesToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"Service": EVENTS_SERVICE},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }


def forwarding_trust_policy(security_account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EventBridgeAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": EVENTS_SERVICE},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": security_account}},
        }],
    }


def forwarding_policy(*, hub_region_name: str, security_account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ForwardToHubBus",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": default_bus_arn(hub_region_name, security_account),
        }],
    }
