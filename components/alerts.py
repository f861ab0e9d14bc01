"""RotationAlerts: EventBridge rules for failed and abandoned rotations, sent to an SNS topic.

    RotationAlerts "<name>"                                      secrets-layout:alerts:RotationAlerts
    ├── aws:sns/topic:Topic "<name>-topic"                       alerts.topic: encrypted with the primary key
    ├── aws:sns/topicPolicy:TopicPolicy "<name>-topic-policy"    events.amazonaws.com may publish (SourceArn)
    ├── aws:sns/topicSubscription:TopicSubscription "<name>-subscription-<n>"
    ├── aws:iam/role:Role "<name>-forward-role"                  when the layout has regions besides the hub
    ├── aws:iam/rolePolicy:RolePolicy "<name>-forward-policy"    events:PutEvents on the hub's default bus
    ├── aws:cloudwatch/eventRule:EventRule "<name>-rule-<region>"      one per region of the layout
    └── aws:cloudwatch/eventTarget:EventTarget "<name>-target-<region>"

Why this shape (AWS's rules, each cited):
- Secrets Manager reports rotation outcomes as CloudTrail service events: detail-type
  "AWS Service Event via CloudTrail", eventName RotationFailed / RotationAbandoned / RotationSucceeded ...
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html, "Log entries
  for rotation"; matching them: https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html).
  The secret's ARN is in detail.additionalEventData.SecretId.
- An event reaches only the default bus of the region where it happened, and a rule's targets must be
  in the rule's region (https://repost.aws/knowledge-center/sns-not-getting-eventbridge-notification),
  so every other region forwards to the hub region's default bus, the one cross-region target
  EventBridge supports, with a role allowed events:PutEvents
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html). The hub is the
  topic's region: the primary region for a created topic.
- The topic policy lets events.amazonaws.com publish only for the hub rule (aws:SourceArn), against the
  confused deputy (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions).
- A topic encrypted with a customer managed key needs the key to let events.amazonaws.com use it
  (kms:GenerateDataKey*, kms:Decrypt; https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
  `eventbridge_key_statement` is that statement; the layout adds it to the primary region's key policy.
- The pattern matches only this environment's secrets (several environments share one security account),
  and also events that carry no SecretId, so a change in the event's shape never silences an alert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.declaration.models import MANAGED_BY, Alerts

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


@dataclass
class RotationAlertsArgs:
    environment: str
    """The environment slug: names, and the secrets the pattern matches (<environment>/...)."""
    security_account: str
    """The account of the secrets, rules and topic."""
    primary_region: str
    """Where a created topic goes."""
    regions: Sequence[str]
    """Every region of the layout: one rule each."""
    alerts: Alerts
    """The declaration's alerts block."""
    providers: Mapping[str, aws.Provider]
    """Provider per region of the layout (the hub region must be one)."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Key of a created topic: the environment's key in the primary region."""
    tags: Mapping[str, str] = field(default_factory=dict)


class RotationAlerts(pulumi.ComponentResource):
    """Rotation failures and abandoned rotations of one environment, in every region, to one topic."""

    topic_arn: str
    rules: dict[str, aws.cloudwatch.EventRule]

    def __init__(self, name: str, args: RotationAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:alerts:RotationAlerts", name, None, opts)
        alerts, account, environment = args.alerts, args.security_account, args.environment
        hub = hub_region(alerts, args.primary_region)
        if hub not in args.providers:
            raise ValueError(
                f"alerts.topic_arn is in {hub}, which is not a region of the layout ({', '.join(args.regions)}); "
                "use a topic in one of them"
            )
        tags = {**args.tags, "environment": environment, "managed-by": MANAGED_BY}
        rule_name = alert_rule_name(environment)
        self.topic_arn = alert_topic_arn(environment, alerts, primary_region=args.primary_region,
                                         security_account=account)
        depends: list[pulumi.Resource] = []
        if alerts.topic is not None:
            # The ARN is known before the topic exists (arn:aws:sns:<region>:<account>:<name>), so the
            # policy and the targets are plain strings; depends_on orders them after the topic.
            topic = aws.sns.Topic(
                f"{name}-topic",
                name=alert_topic_name(environment, alerts),
                kms_master_key_id=args.kms_key_arn,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[hub]),
            )
            policy = aws.sns.TopicPolicy(
                f"{name}-topic-policy",
                arn=topic.arn,
                policy=json.dumps(alert_topic_policy(topic_arn=self.topic_arn,
                                                     rule_arn=event_rule_arn(hub, account, rule_name),
                                                     security_account=account)),
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[hub]),
            )
            for index, subscription in enumerate(alerts.topic.subscriptions):
                aws.sns.TopicSubscription(
                    f"{name}-subscription-{index}",
                    topic=topic.arn,
                    protocol=subscription.protocol,
                    endpoint=subscription.endpoint,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.providers[hub]),
                )
            depends = [topic, policy]

        role = None
        if any(region != hub for region in args.regions):
            role = aws.iam.Role(
                f"{name}-forward-role",
                name=forwarding_role_name(environment),
                assume_role_policy=json.dumps(forwarding_trust_policy(account)),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region]),
            )
            aws.iam.RolePolicy(
                f"{name}-forward-policy",
                role=role.id,
                policy=json.dumps(forwarding_policy(hub_region_name=hub, security_account=account)),
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region]),
            )

        pattern = json.dumps(rotation_alert_pattern(environment=environment, security_account=account,
                                                    regions=args.regions))
        self.rules = {}
        for region in dict.fromkeys([hub, *args.regions]):
            provider = args.providers[region]
            rule = aws.cloudwatch.EventRule(
                f"{name}-rule-{region}",
                name=rule_name,
                description=f"Failed and abandoned rotations of {environment} secrets ({region})",
                event_pattern=pattern,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            if region == hub:
                aws.cloudwatch.EventTarget(
                    f"{name}-target-{region}",
                    rule=rule.name,
                    target_id="alert-topic",
                    arn=self.topic_arn,
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends),
                )
            else:
                assert role is not None
                aws.cloudwatch.EventTarget(
                    f"{name}-target-{region}",
                    rule=rule.name,
                    target_id=f"to-{hub}",
                    arn=default_bus_arn(hub, account),
                    role_arn=role.arn,
                    opts=pulumi.ResourceOptions(parent=self, provider=provider),
                )
            self.rules[region] = rule
        self.register_outputs({"topic_arn": self.topic_arn, "rule_name": rule_name})
