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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.consumer import (
    CONSUMER_GRANTS,
    ROLE_POLICY,
    plan_consumer_grants,
    role_resource_suffix,
    role_resource_suffixes,
)
from secrets_layout.components.plan.providers import AWS_PROVIDER
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized

__all__ = ["ConsumerGrants", "ConsumerGrantsArgs", "role_resource_suffix"]


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


class ConsumerGrants(PlannedComponent):
    """Inline read policies on the reader roles of one consumer account."""

    TYPE = CONSUMER_GRANTS
    provider: aws.Provider
    policies: dict[str, aws.iam.RolePolicy]

    def __init__(self, name: str, args: ConsumerGrantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        plan = PlanBuilder()
        plan_consumer_grants(plan, name, parent=None, environment=args.environment, account_id=args.account_id,
                             deploy_role_arn=args.deploy_role_arn, region=args.region,
                             policies_by_role=args.policies_by_role)
        self._realize_alone(plan.build(), Bindings())

    def take(self, realized: Realized) -> None:
        self.provider = realized.part(AWS_PROVIDER, f"{self._name}-provider")
        roles = realized.outputs_of(self._key)["roles"]
        self.policies = {role: realized.part(ROLE_POLICY, f"{self._name}-{suffix}")
                         for role, suffix in role_resource_suffixes(roles).items()}
