"""Explicit AWS providers: one per region of the security account, and assumed-role ones.

Every AWS resource of the layout names its provider; nothing relies on the stack's default
provider or `aws:region`. Each provider pins the account it may touch
(`allowed_account_ids`), so credentials for the wrong account fail before any change.
The providers are planned (components/plan/providers.py) and realized here.
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_aws as aws

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.providers import plan_assumed_role_provider, plan_regional_providers
from secrets_layout.components.realize import Bindings, realize


def regional_providers(
    name: str,
    *,
    regions: Iterable[str],
    account_id: str,
    parent: pulumi.Resource | None = None,
) -> dict[str, aws.Provider]:
    """One provider per region, named f"{name}-{region}", all pinned to `account_id`."""
    plan = PlanBuilder()
    keys = plan_regional_providers(plan, name, regions=regions, account_id=account_id,
                                   parent="parent" if parent is not None else None)
    realized = realize(plan.build(), existing={"parent": parent} if parent is not None else {}, bindings=Bindings())
    return {region: realized[key] for region, key in keys.items()}


def assumed_role_provider(
    name: str,
    *,
    role_arn: str,
    account_id: str,
    region: str,
    session_name: str,
    parent: pulumi.Resource | None = None,
) -> aws.Provider:
    """A provider acting in another account through a role the deployment may assume."""
    plan = PlanBuilder()
    key = plan_assumed_role_provider(plan, name, role_arn=role_arn, account_id=account_id, region=region,
                                     session_name=session_name, parent="parent" if parent is not None else None)
    return realize(plan.build(), existing={"parent": parent} if parent is not None else {}, bindings=Bindings())[key]
