"""The plan of ConsumerGrants: the reader roles' own read policies, written into the consumer account
through a provider that assumes its deploy role (components/consumer.py says why)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.providers import plan_assumed_role_provider

CONSUMER_GRANTS = "secrets-layout:consumer:ConsumerGrants"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def role_resource_suffix(role: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", role).strip("-")


def role_resource_suffixes(roles: Iterable[str]) -> dict[str, str]:
    """Each role's part of its policy's resource name: `role_resource_suffix`, and where two roles would
    get the same one (App.Role and App+Role), each of those followed by a digest of the role, so no two
    registrations share a name."""
    suffixes = {role: role_resource_suffix(role) for role in roles}
    shared = Counter(suffixes.values())
    return {role: suffix if shared[suffix] == 1 else f"{suffix}-{hashlib.sha256(role.encode()).hexdigest()[:8]}"
            for role, suffix in suffixes.items()}


def plan_consumer_grants(plan: PlanBuilder, name: str, *, parent: str | None, environment: str, account_id: str,
                         deploy_role_arn: str, region: str, policies_by_role: Mapping[str, Mapping[str, Any]]) -> str:
    component = plan.component(CONSUMER_GRANTS, name, parent=parent)
    provider = plan_assumed_role_provider(plan, f"{name}-provider", role_arn=deploy_role_arn, account_id=account_id,
                                          region=region, session_name=f"secrets-layout-{environment}", parent=component)
    for role, suffix in role_resource_suffixes(policies_by_role).items():
        plan.add(ROLE_POLICY, f"{name}-{suffix}", parent=component, provider=provider, inputs={
            # RolePolicy takes the role's name; a path (team/AppRole) is not part of it.
            "role": role.rsplit("/", 1)[-1], "name": f"secrets-layout-{environment}-read",
            "policy": json.dumps(policies_by_role[role])})
    plan.finish(component, {"roles": sorted(policies_by_role)})
    return component
