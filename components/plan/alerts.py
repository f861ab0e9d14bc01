"""The plan of RotationAlerts: EventBridge rules for failed and abandoned rotations, sent to an SNS
topic (components/alerts.py says why this shape)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from secrets_layout.components.alert_settings import (
    alert_rule_name,
    alert_topic_arn,
    alert_topic_name,
    alert_topic_policy,
    default_bus_arn,
    event_rule_arn,
    forwarding_policy,
    forwarding_role_name,
    forwarding_trust_policy,
    hub_region,
    rotation_alert_pattern,
)
from secrets_layout.components.plan.builder import PlanBuilder, without_none
from secrets_layout.components.plan.model import Options, Ref
from secrets_layout.declaration.models import MANAGED_BY, Alerts

ROTATION_ALERTS = "secrets-layout:alerts:RotationAlerts"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def plan_rotation_alerts(plan: PlanBuilder, name: str, *, parent: str | None, environment: str,
                         security_account: str, primary_region: str, regions: Sequence[str], alerts: Alerts,
                         providers: Mapping[str, Any], kms_key_arn: Any = None,
                         tags: Mapping[str, str] | None = None) -> str:
    """The component and its parts; returns the topic's ARN (known before the topic exists)."""
    hub = hub_region(alerts, primary_region)
    if hub not in providers:
        raise ValueError(f"alerts.topic_arn is in {hub}, which is not a region of the layout ({', '.join(regions)}); "
                         "use a topic in one of them")
    labelled = {**(tags or {}), "environment": environment, "managed-by": MANAGED_BY}
    rule_name = alert_rule_name(environment)
    topic_arn = alert_topic_arn(environment, alerts, primary_region=primary_region, security_account=security_account)
    component = plan.component(ROTATION_ALERTS, name, parent=parent)
    depends: tuple[str, ...] = ()
    if alerts.topic is not None:
        # The ARN is known before the topic exists (arn:aws:sns:<region>:<account>:<name>), so the policy
        # and the targets are plain strings; depends_on orders them after the topic.
        topic = plan.add(TOPIC, f"{name}-topic", parent=component, provider=providers[hub], inputs=without_none({
            "name": alert_topic_name(environment, alerts), "kmsMasterKeyId": kms_key_arn, "tags": labelled}))
        policy = plan.add(TOPIC_POLICY, f"{name}-topic-policy", parent=component, provider=providers[hub], inputs={
            "arn": Ref(topic, "arn"),
            "policy": json.dumps(alert_topic_policy(topic_arn=topic_arn,
                                                    rule_arn=event_rule_arn(hub, security_account, rule_name),
                                                    security_account=security_account))})
        for index, subscription in enumerate(alerts.topic.subscriptions):
            plan.add(SUBSCRIPTION, f"{name}-subscription-{index}", parent=component, provider=providers[hub], inputs={
                "topic": Ref(topic, "arn"), "protocol": subscription.protocol, "endpoint": subscription.endpoint})
        depends = (topic, policy)
    role = None
    if any(region != hub for region in regions):
        role = plan.add(ROLE, f"{name}-forward-role", parent=component, provider=providers[primary_region], inputs={
            "name": forwarding_role_name(environment),
            "assumeRolePolicy": json.dumps(forwarding_trust_policy(security_account)), "tags": labelled})
        plan.add(ROLE_POLICY, f"{name}-forward-policy", parent=component, provider=providers[primary_region], inputs={
            "role": Ref(role, "id"),
            "policy": json.dumps(forwarding_policy(hub_region_name=hub, security_account=security_account))})
    pattern = json.dumps(rotation_alert_pattern(environment=environment, security_account=security_account,
                                                regions=regions))
    for region in dict.fromkeys([hub, *regions]):
        rule = plan.add(RULE, f"{name}-rule-{region}", parent=component, provider=providers[region], inputs={
            "name": rule_name, "description": f"Failed and abandoned rotations of {environment} secrets ({region})",
            "eventPattern": pattern, "tags": labelled})
        if region == hub:
            plan.add(TARGET, f"{name}-target-{region}", parent=component, provider=providers[region], inputs={
                "rule": Ref(rule, "name"), "targetId": "alert-topic", "arn": topic_arn},
                options=Options(depends_on=depends))
        else:
            assert role is not None
            plan.add(TARGET, f"{name}-target-{region}", parent=component, provider=providers[region], inputs={
                "rule": Ref(rule, "name"), "targetId": f"to-{hub}", "arn": default_bus_arn(hub, security_account),
                "roleArn": Ref(role, "arn")})
    plan.finish(component, {"topic_arn": topic_arn, "rule_name": rule_name})
    return topic_arn
