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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from secrets_layout.components.rotation_settings import ROTATE_IMMEDIATELY, rotation_rules
from secrets_layout.components.secret_settings import (
    ADOPTED_ROTATION_IGNORED,
    INITIAL_VERSION_STAGE,
    adoption_ignore_changes,
    arns_by_region,
    password_settings,
    render_generated_value,
    secret_tags,
)
from secrets_layout.declaration.models import Secret

VALUE_IGNORED_WHEN_ROTATING = ["secret_string", "version_stages"]


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


class ManagedSecret(pulumi.ComponentResource):
    """A Secrets Manager secret in the security account, readable across accounts."""

    secret: aws.secretsmanager.Secret
    password: random.RandomPassword | None
    version: aws.secretsmanager.SecretVersion | None
    policy: aws.secretsmanager.SecretPolicy | None
    rotation: aws.secretsmanager.SecretRotation | None
    arn: pulumi.Output[str]
    arn_by_region: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: ManagedSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:secret:ManagedSecret", name, None, opts)
        declared = args.secret
        primary = args.providers[args.primary_region]
        rotates = args.rotation_lambda_arn is not None
        if rotates and not declared.rotates:
            raise ValueError(
                f"{declared.name}: a rotation function was given but the secret declares no enabled "
                "rotation; add rotation: {every_days: N} (or schedule) to the secret"
            )

        if declared.adopt is not None:
            self._adopt(name, args, primary)
            return
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=declared.name,
            description=declared.description,
            kms_key_id=args.kms_key_arns[args.primary_region],
            recovery_window_in_days=declared.recovery_window_days,
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(region=region, kms_key_id=args.kms_key_arns[region])
                for region in declared.replicas
            ],
            tags=secret_tags(declared, args.environment),
            opts=pulumi.ResourceOptions(
                parent=self, provider=primary, protect=args.protect, import_=declared.import_id
            ),
        )

        self.password = None
        value = self._value(name, args)
        self.version = None
        if value is not None:
            self.version = aws.secretsmanager.SecretVersion(
                f"{name}-version",
                secret_id=self.secret.id,
                secret_string=value,
                version_stages=["AWSCURRENT", INITIAL_VERSION_STAGE] if rotates else None,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=primary,
                    protect=args.protect,
                    ignore_changes=VALUE_IGNORED_WHEN_ROTATING if rotates else None,
                    additional_secret_outputs=["secret_string"],
                ),
            )

        self.policy = aws.secretsmanager.SecretPolicy(
            f"{name}-policy",
            secret_arn=self.secret.arn,
            policy=json.dumps(args.resource_policy),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=self, provider=primary),
        )

        self.rotation = None
        if rotates and declared.rotation is not None:  # declared.rotates implies a rotation
            self.rotation = self._rotation(
                name, args, primary,
                depends_on=[*(resource for resource in [self.version] if resource), *args.rotation_dependencies],
            )

        self._finish(args)

    def _finish(self, args: ManagedSecretArgs) -> None:
        declared = args.secret
        self.arn = self.secret.arn
        self.arn_by_region = self.secret.arn.apply(
            lambda arn: arns_by_region(arn, args.primary_region, declared.deployed_replica_regions)
        )
        self.register_outputs({"name": declared.name, "arn": self.secret.arn, "arn_by_region": self.arn_by_region})

    def _adopt(self, name: str, args: ManagedSecretArgs, primary: aws.Provider) -> None:
        """Step 1 of adoption: import the secret as it is, and change nothing about it."""
        declared = args.secret
        adopt = declared.adopt
        assert adopt is not None and declared.import_id is not None, "validated: adopt goes with import_id"
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=declared.name,
            description=adopt.description,
            kms_key_id=adopt.kms_key_id,
            recovery_window_in_days=declared.recovery_window_days,
            replicas=(
                None if adopt.replicas is None else [
                    aws.secretsmanager.SecretReplicaArgs(region=replica.region, kms_key_id=replica.kms_key_id)
                    for replica in adopt.replicas
                ]
            ),
            tags=adopt.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=primary,
                protect=args.protect,
                import_=declared.import_id,
                ignore_changes=adoption_ignore_changes(adopt),
            ),
        )
        self.password = None
        self.version = None
        self.policy = None
        self.rotation = None
        if adopt.rotates and args.rotation_lambda_arn is not None:
            # A SecretRotation is imported by its secret's ARN (terraform-provider-aws
            # secretsmanager/secret_rotation.go: @ArnIdentity("secret_id")).
            self.rotation = self._rotation(
                name, args, primary, import_=declared.import_id, ignore_changes=ADOPTED_ROTATION_IGNORED
            )
        self._finish(args)

    def _rotation(
        self, name: str, args: ManagedSecretArgs, primary: aws.Provider, **options: Any
    ) -> aws.secretsmanager.SecretRotation:
        rotation = args.secret.rotation
        assert rotation is not None and args.rotation_lambda_arn is not None, "only for a declared rotation"
        return aws.secretsmanager.SecretRotation(
            f"{name}-rotation",
            secret_id=self.secret.id,
            rotation_lambda_arn=args.rotation_lambda_arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(**rotation_rules(rotation)),
            rotate_immediately=ROTATE_IMMEDIATELY,
            opts=pulumi.ResourceOptions(parent=self, provider=primary, **options),
        )

    def _value(self, name: str, args: ManagedSecretArgs) -> pulumi.Output[str] | None:
        """The secret string as a secret output, or None for an external value."""
        source = args.secret.value
        if source.from_config is not None:
            config = args.config or pulumi.Config()
            return pulumi.Output.secret(config.require_secret(source.from_config))
        if source.generate is None:
            return None
        self.password = random.RandomPassword(
            f"{name}-password",
            **password_settings(args.secret),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        declared = args.secret
        return pulumi.Output.secret(self.password.result.apply(lambda generated: render_generated_value(declared, generated)))
