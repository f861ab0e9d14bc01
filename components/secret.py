"""ManagedSecret: one declared secret with its value, policy, replicas and rotation.

    ManagedSecret "<name>"                                      secrets-layout:secret:ManagedSecret
    ├── aws:secretsmanager/secret:Secret "<name>-secret"        customer managed key, replicas on their region's key
    ├── random:index/randomPassword:RandomPassword "<name>-password"   value: generate
    ├── aws:secretsmanager/secretVersion:SecretVersion "<name>-version"  value: generate | from_config
    ├── aws:secretsmanager/secretPolicy:SecretPolicy "<name>-policy"    block_public_policy
    └── aws:secretsmanager/secretRotation:SecretRotation "<name>-rotation"  when it rotates

Values never appear in plain form: generated values come from pulumi_random (created once,
stable across deploys: no keepers), config values from `Config.require_secret`, and both are
secret outputs. `external: true` makes a container only: its owner puts the value.

Once the secret rotates, the rotation function owns the value: the version ignores changes
to `secret_string` and `version_stages`, so a later `pulumi up` neither writes the deployed
value back nor plans a replacement, and the version carries a staging label of its own
(secret_settings.INITIAL_VERSION_STAGE) so AWS never deletes it as deprecated. A changed
template or config value is therefore not deployed while rotation is on; put it with
`aws secretsmanager put-secret-value` or let the next rotation pick it up.

Protect (prod and shared-services by default) covers the secret, its generated password and
its version: what would lose data. The policy and the rotation stay changeable.

Adoption (`import_id`) takes two deployments. With `adopt:` (step 1) only the secret is
registered, imported with its live settings (unknown ones in ignore_changes), plus its live
rotation imported unchanged when `adopt.rotates`; no policy, version or password. Without
`adopt:` (step 2) the secret keeps `import_id` (the engine treats a resource already in the
state under that import ID as any other) and gets the declared settings, policy and rotation:
the preview shows those updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.secret import (  # noqa: F401 - VALUE_IGNORED_WHEN_ROTATING is public here too
    MANAGED_SECRET,
    PASSWORD,
    POLICY,
    ROTATION,
    SECRET,
    VALUE_IGNORED_WHEN_ROTATING,
    VERSION,
    plan_managed_secret,
)
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized
from secrets_layout.declaration.models import Secret


@dataclass
class ManagedSecretArgs:
    secret: Secret
    """The declared secret, defaults already merged (as the loader returns it)."""
    environment: str
    """The environment slug, for tags."""
    primary_region: str
    """Region of the secret; replicas go to `secret.replicas`."""
    providers: Mapping[str, aws.Provider]
    """Provider per region; must hold the primary region (replica regions are optional)."""
    kms_key_arns: Mapping[str, pulumi.Input[str]]
    """Key ARN per region: the primary region's and every replica region's."""
    resource_policy: Mapping[str, Any]
    """The secret's resource policy document (policy_documents.secret_resource_policy)."""
    rotation_lambda_arn: pulumi.Input[str] | None = None
    """The function that rotates the secret (which must declare an enabled rotation);
    None: no SecretRotation, and the value is deployed on every change."""
    rotation_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)
    """Resources the rotation waits for, e.g. the function's lambda.Permission."""
    protect: bool = False
    """Protect the secret, its password and its version against deletion."""
    config: pulumi.Config | None = None
    """Where `from_config` values are read (default: the project's config namespace)."""


class ManagedSecret(PlannedComponent):
    """A Secrets Manager secret in the security account, readable across accounts."""

    TYPE = MANAGED_SECRET
    secret: aws.secretsmanager.Secret
    password: random.RandomPassword | None
    version: aws.secretsmanager.SecretVersion | None
    policy: aws.secretsmanager.SecretPolicy | None
    rotation: aws.secretsmanager.SecretRotation | None
    arn: pulumi.Output[str]
    arn_by_region: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: ManagedSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(args.config), PlanBuilder()
        plan_managed_secret(
            plan, name, parent=None, secret=args.secret, environment=args.environment,
            primary_region=args.primary_region,
            providers={region: bindings.external(provider) for region, provider in args.providers.items()},
            kms_key_arns={region: bindings.external(arn) for region, arn in args.kms_key_arns.items()},
            resource_policy=args.resource_policy, rotation_lambda_arn=bindings.external(args.rotation_lambda_arn),
            rotation_dependencies=tuple(bindings.external(resource) for resource in args.rotation_dependencies),
            protect=args.protect)
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        for part, resource_type in (("secret", SECRET), ("password", PASSWORD), ("version", VERSION),
                                    ("policy", POLICY), ("rotation", ROTATION)):
            setattr(self, part, realized.part(resource_type, f"{self._name}-{part}"))
        self.arn = self.secret.arn
        self.arn_by_region = realized.value(realized.outputs_of(self._key)["arn_by_region"])
