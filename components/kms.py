"""RegionalKey: the environment's customer managed key in one region.

Secrets shared across accounts cannot use the AWS managed key (aws/secretsmanager): its
policy cannot be changed, so other accounts could never decrypt. Each region used by the
environment (primary and replica regions) gets its own key, because a replica is encrypted
with a key of its own region.

    RegionalKey "<name>"                          secrets-layout:kms:RegionalKey
    ├── aws:kms/key:Key "<name>-key"              rotation on, policy from kms_key_policy
    └── aws:kms/alias:Alias "<name>-alias"        alias/secrets/<environment>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.keys import ALIAS, KEY, REGIONAL_KEY, key_alias, plan_regional_key  # noqa: F401 - key_alias is public here too
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized


@dataclass
class RegionalKeyArgs:
    environment: str
    """The environment slug: the alias is alias/secrets/<environment>."""
    region: str
    """The key's region; readers may decrypt only via Secrets Manager in this region."""
    security_account: str
    """The account that owns the key (its root keeps administration)."""
    reader_roles: Sequence[tuple[str, str]]
    """(account ID, role) of the reader roles allowed to decrypt through Secrets Manager."""
    provider: aws.Provider
    """The provider of `region` in the security account."""
    protect: bool = False
    """Protect the key: deleting it makes every secret encrypted with it unreadable."""
    deletion_window_in_days: int = 30
    """Waiting period before a deleted key is destroyed (7-30); the longest by default."""
    tags: Mapping[str, str] = field(default_factory=dict)
    service_statements: Sequence[Mapping[str, Any]] = ()
    """Key policy statements other parts of the layout need (e.g. EventBridge for an encrypted alert topic)."""


class RegionalKey(PlannedComponent):
    """A KMS key with rotation on, its alias and a key policy for cross-account reads."""

    TYPE = REGIONAL_KEY
    key: aws.kms.Key
    alias: aws.kms.Alias
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RegionalKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(), PlanBuilder()
        plan_regional_key(plan, name, parent=None, environment=args.environment, region=args.region,
                          security_account=args.security_account, reader_roles=args.reader_roles,
                          provider=bindings.external(args.provider), protect=args.protect,
                          deletion_window_in_days=args.deletion_window_in_days, tags=args.tags,
                          service_statements=args.service_statements)
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        self.key = realized.part(KEY, f"{self._name}-key")
        self.alias = realized.part(ALIAS, f"{self._name}-alias")
        self.key_arn = self.key.arn
