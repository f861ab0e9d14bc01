"""Explicit AWS providers: one per region of the security account, and assumed-role ones.

Every AWS resource of the layout names its provider; nothing relies on the stack's default
provider or `aws:region`. Each provider pins the account it may touch
(`allowed_account_ids`), so credentials for the wrong account fail before any change.
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_aws as aws


def regional_providers(
    name: str,
    *,
    regions: Iterable[str],
    account_id: str,
    parent: pulumi.Resource | None = None,
) -> dict[str, aws.Provider]:
    """One provider per region, named f"{name}-{region}", all pinned to `account_id`."""
    return {
        region: aws.Provider(
            f"{name}-{region}",
            region=region,
            allowed_account_ids=[account_id],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for region in dict.fromkeys(regions)
    }


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
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role_arn, session_name=session_name)],
        opts=pulumi.ResourceOptions(parent=parent),
    )
