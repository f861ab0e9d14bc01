"""ConsumerGrants: the reader roles' own permissions, written into the consumer account.

Cross-account reads need both sides: the secret's resource policy (in the security account)
and an identity policy on the reader role (in the consumer account). When the declaration
gives an account a `deploy_role_arn`, the layout writes the second side too, through a
provider that assumes that role; otherwise the consumer team attaches the policy that
`secrets-layout consumer-policy` prints. Both are `policy_documents.reader_identity_policy`:
the grant written here is the printed policy (for a role reading several secrets, theirs together).

    ConsumerGrants "<name>"                              secrets-layout:consumer:ConsumerGrants
    ├── pulumi:providers:aws "<name>-provider"           assumes deploy_role_arn
    └── aws:iam/rolePolicy:RolePolicy "<name>-<role>"    per reader role: its secrets + kms:Decrypt
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.components.providers import assumed_role_provider


@dataclass
class ConsumerGrantsArgs:
    environment: str
    """The environment slug: names the inline policy secrets-layout-<environment>-read."""
    account_id: str
    """The consumer account."""
    deploy_role_arn: str
    """The role in the consumer account that the deployment assumes."""
    region: str
    """Region for the provider (IAM itself is global)."""
    security_account: str
    """The account holding the secrets."""
    policies_by_role: Mapping[str, Mapping[str, Any]]
    """Reader role (name or path/name) -> its read policy (policy_documents.consumer_grant_policies)."""


def role_resource_suffix(role: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", role).strip("-")


class ConsumerGrants(pulumi.ComponentResource):
    """Inline read policies on the reader roles of one consumer account."""

    provider: aws.Provider
    policies: dict[str, aws.iam.RolePolicy]

    def __init__(self, name: str, args: ConsumerGrantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:consumer:ConsumerGrants", name, None, opts)
        self.provider = assumed_role_provider(
            f"{name}-provider",
            role_arn=args.deploy_role_arn,
            account_id=args.account_id,
            region=args.region,
            session_name=f"secrets-layout-{args.environment}",
            parent=self,
        )
        self.policies = {}
        for role, policy in args.policies_by_role.items():
            self.policies[role] = aws.iam.RolePolicy(
                f"{name}-{role_resource_suffix(role)}",
                # RolePolicy takes the role's name; a path (team/AppRole) is not part of it.
                role=role.rsplit("/", 1)[-1],
                name=f"secrets-layout-{args.environment}-read",
                policy=json.dumps(policy),
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
            )
        self.register_outputs({"roles": sorted(args.policies_by_role)})
