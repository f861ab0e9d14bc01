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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from secrets_layout.components.alert_settings import (  # noqa: F401 - this module's public names too
    ALERT_EVENTS,
    EVENTS_SERVICE,
    SERVICE_EVENT,
    TOPIC_OWNER_ACTIONS,
    alert_rule_name,
    alert_topic_arn,
    alert_topic_name,
    alert_topic_policy,
    default_bus_arn,
    event_rule_arn,
    eventbridge_key_statement,
    forwarding_policy,
    forwarding_role_name,
    forwarding_trust_policy,
    hub_region,
    rotation_alert_pattern,
    sns_topic_arn,
)
from secrets_layout.components.plan.alerts import ROTATION_ALERTS, RULE, plan_rotation_alerts
from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized
from secrets_layout.declaration.models import Alerts


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


class RotationAlerts(PlannedComponent):
    """Rotation failures and abandoned rotations of one environment, in every region, to one topic."""

    TYPE = ROTATION_ALERTS
    topic_arn: str
    rules: dict[str, aws.cloudwatch.EventRule]

    def __init__(self, name: str, args: RotationAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(), PlanBuilder()
        plan_rotation_alerts(
            plan, name, parent=None, environment=args.environment, security_account=args.security_account,
            primary_region=args.primary_region, regions=args.regions, alerts=args.alerts,
            providers={region: bindings.external(provider) for region, provider in args.providers.items()},
            kms_key_arn=bindings.external(args.kms_key_arn), tags=args.tags)
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        self.topic_arn = realized.outputs_of(self._key)["topic_arn"]
        prefix = f"{self._name}-rule-"
        self.rules = {name.removeprefix(prefix): rule for name, rule in realized.children(self._key, RULE).items()}
