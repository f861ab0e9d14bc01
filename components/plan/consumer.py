"""The plan of ConsumerGrants: the reader roles' own read policies, written into the consumer account
through a provider that assumes its deploy role (components/consumer.py says why)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.model import Registration
from secrets_layout.components.plan.providers import plan_assumed_role_provider

CONSUMER_GRANTS = "secrets-layout:consumer:ConsumerGrants"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def role_resource_suffix(role: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", role).strip("-")


def plan_consumer_grants(plan: PlanBuilder, name: str, *, parent: str | None, environment: str, account_id: str,
                         deploy_role_arn: str, region: str, policies_by_role: Mapping[str, Mapping[str, Any]]) -> str:
    plan.add(Registration(name, CONSUMER_GRANTS, name, parent=parent, component=True,
                          outputs={"roles": sorted(policies_by_role)}))
    provider = plan_assumed_role_provider(plan, f"{name}-provider", role_arn=deploy_role_arn, account_id=account_id,
                                          region=region, session_name=f"secrets-layout-{environment}", parent=name)
    for role, policy in policies_by_role.items():
        key = f"{name}-{role_resource_suffix(role)}"
        plan.add(Registration(key, ROLE_POLICY, key, parent=name, provider=provider, inputs={
            # RolePolicy takes the role's name; a path (team/AppRole) is not part of it.
            "role": role.rsplit("/", 1)[-1], "name": f"secrets-layout-{environment}-read", "policy": json.dumps(policy)}))
    return name
