"""Explicit AWS providers in the plan: one per region of the security account, and assumed-role ones
(components/providers.py says why every resource names its provider)."""

from __future__ import annotations

from collections.abc import Iterable

from secrets_layout.components.plan.builder import PlanBuilder

AWS_PROVIDER = "pulumi:providers:aws"


def plan_regional_providers(plan: PlanBuilder, name: str, *, regions: Iterable[str], account_id: str,
                            parent: str | None) -> dict[str, str]:
    """One provider per region, named f"{name}-{region}", all pinned to `account_id`; their keys by region."""
    providers = {}
    for region in dict.fromkeys(regions):
        providers[region] = plan.add(AWS_PROVIDER, f"{name}-{region}", parent=parent, inputs={
            "region": region, "allowedAccountIds": [account_id]})
    return providers


def plan_assumed_role_provider(plan: PlanBuilder, name: str, *, role_arn: str, account_id: str, region: str,
                               session_name: str, parent: str | None) -> str:
    return plan.add(AWS_PROVIDER, name, parent=parent, inputs={
        "region": region, "allowedAccountIds": [account_id],
        "assumeRoles": [{"roleArn": role_arn, "sessionName": session_name}]})
