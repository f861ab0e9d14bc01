"""SecretsLayout: one validated declaration -> the whole layout in the security account.

    SecretsLayout "<name>"                                    secrets-layout:layout:SecretsLayout
    ├── pulumi:providers:aws "<name>-aws-<region>"            one per region used, pinned to the security account
    ├── RegionalKey "<name>-kms-<region>"                     per region without a key in kms.keys
    ├── ManagedRotationApp "<name>-rotation-<engine>[-<placement>]"      per managed engine + VPC
    ├── BundledRotationFunction "<name>-rotation-<function>[-<placement>]"  per bundled function + VPC
    ├── ManagedSecret "<secret name>"                         per secret
    ├── ConsumerGrants "<name>-consumer-<account>"            per account with deploy_role_arn and readers
    ├── ParameterSet "<name>-parameters"                      when parameters are declared
    └── RotationAlerts "<name>-alerts"                        when alerts are declared

`stack_outputs` is what the program exports (consumers reference names, not ARNs):

    environment      "prod"
    secrets          {secret name: {"arn_by_region": {region: arn}}}
    secret_names     [secret name, ...]
    kms_key_arns     {region: key arn}
    parameter_names  [parameter name, ...]
    alert_topic_arn  the topic rotation alerts go to (only with alerts:)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.components.alerts import RotationAlerts, RotationAlertsArgs, eventbridge_key_statement
from secrets_layout.components.consumer import ConsumerGrants, ConsumerGrantsArgs
from secrets_layout.components.kms import RegionalKey, RegionalKeyArgs
from secrets_layout.components.parameters import ParameterSet, ParameterSetArgs
from secrets_layout.components.policy_documents import consumer_grant_policies, reader_roles, secret_policy_for
from secrets_layout.components.providers import regional_providers
from secrets_layout.components.rotation import (
    ROTATION_CODE_DIRECTORY,
    BundledRotationFunction,
    BundledRotationFunctionArgs,
    ManagedRotationApp,
    ManagedRotationAppArgs,
)
from secrets_layout.components.rotation_settings import bundled_rotation_groups, managed_rotation_groups, rotation_method
from secrets_layout.components.secret import ManagedSecret, ManagedSecretArgs
from secrets_layout.declaration.models import Declaration


@dataclass
class SecretsLayoutArgs:
    declaration: Declaration
    """A validated declaration with defaults merged into each secret (the loader's result)."""
    rotation_code_directory: Path = ROTATION_CODE_DIRECTORY
    """Source of the bundled rotation function (default: this repository's rotation/)."""
    config: pulumi.Config | None = None
    """Where `from_config` values are read (default: the project's config namespace)."""


def _suffixed(*parts: str) -> str:
    return "-".join(part for part in parts if part)


class SecretsLayout(pulumi.ComponentResource):
    """Everything one environment declares, in the security account."""

    providers: dict[str, aws.Provider]
    keys: dict[str, RegionalKey]
    kms_key_arns: dict[str, pulumi.Input[str]]
    managed_rotations: list[ManagedRotationApp]
    bundled_rotations: list[BundledRotationFunction]
    secrets: dict[str, ManagedSecret]
    consumer_grants: dict[str, ConsumerGrants]
    parameters: ParameterSet | None
    alerts: RotationAlerts | None
    stack_outputs: dict[str, Any]

    def __init__(self, name: str, args: SecretsLayoutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:layout:SecretsLayout", name, None, opts)
        declaration = args.declaration
        environment = declaration.environment
        primary_region = declaration.primary_region
        tags = {"environment": environment}

        self.providers = regional_providers(
            f"{name}-aws", regions=declaration.regions, account_id=declaration.security_account, parent=self
        )
        primary = self.providers[primary_region]

        self.keys = {}
        self.kms_key_arns = {}
        readers = reader_roles(declaration)
        for region in declaration.regions:
            existing = declaration.kms.keys.get(region)
            if existing is not None:
                self.kms_key_arns[region] = existing
                continue
            self.keys[region] = RegionalKey(
                f"{name}-kms-{region}",
                RegionalKeyArgs(
                    environment=environment,
                    region=region,
                    security_account=declaration.security_account,
                    reader_roles=readers,
                    provider=self.providers[region],
                    protect=declaration.protected_by_default,
                    service_statements=self._key_service_statements(declaration, region),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.kms_key_arns[region] = self.keys[region].key_arn

        # Which function rotates each secret, and what its rotation must wait for.
        rotation_arns: dict[str, pulumi.Input[str]] = {}
        rotation_dependencies: dict[str, list[pulumi.Resource]] = {}
        self.managed_rotations = []
        for group in managed_rotation_groups(declaration.secrets):
            app = ManagedRotationApp(
                _suffixed(f"{name}-rotation-{group.managed.value}", group.placement),
                ManagedRotationAppArgs(
                    managed=group.managed,
                    region=primary_region,
                    function_name=group.function_name(environment),
                    provider=primary,
                    vpc=group.vpc,
                    kms_key_arn=self.kms_key_arns[primary_region],
                    kms_key_arns=dict(self.kms_key_arns),
                    security_account=declaration.security_account,
                    master_secret_arn=group.master_secret_arn,
                    exclude_characters=group.exclude_characters,
                    tags=tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.managed_rotations.append(app)
            for secret_name in group.secret_names:
                rotation_arns[secret_name] = app.function_arn
                rotation_dependencies[secret_name] = [app]
        self.bundled_rotations = []
        for bundled in bundled_rotation_groups(declaration.secrets):
            function = BundledRotationFunction(
                _suffixed(f"{name}-rotation-{bundled.function.value}", bundled.placement),
                BundledRotationFunctionArgs(
                    function_name=bundled.function_name(environment),
                    region=primary_region,
                    security_account=declaration.security_account,
                    kms_key_arns=dict(self.kms_key_arns),
                    provider=primary,
                    vpc=bundled.vpc,
                    code_directory=args.rotation_code_directory,
                    tags=tags,
                    allowed_hosts=bundled.allowed_hosts,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.bundled_rotations.append(function)
            for secret_name in bundled.secret_names:
                rotation_arns[secret_name] = function.function_arn
                rotation_dependencies[secret_name] = [function.permission]
        for secret in declaration.secrets:
            if rotation_method(secret) == "lambda_arn" and secret.rotation and secret.rotation.lambda_arn:
                rotation_arns[secret.name] = secret.rotation.lambda_arn

        self.secrets = {}
        for secret in declaration.secrets:
            self.secrets[secret.name] = ManagedSecret(
                secret.name,
                ManagedSecretArgs(
                    secret=secret,
                    environment=environment,
                    primary_region=primary_region,
                    providers=self.providers,
                    kms_key_arns=self.kms_key_arns,
                    resource_policy=secret_policy_for(declaration, secret),
                    rotation_lambda_arn=rotation_arns.get(secret.name),
                    rotation_dependencies=rotation_dependencies.get(secret.name, []),
                    protect=declaration.protects(secret),
                    config=args.config,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.consumer_grants = {}
        for account_name, account in declaration.accounts.items():
            if account.deploy_role_arn is None:
                continue
            policies_by_role = consumer_grant_policies(declaration, account_name)
            if not policies_by_role:
                continue
            self.consumer_grants[account_name] = ConsumerGrants(
                f"{name}-consumer-{account_name}",
                ConsumerGrantsArgs(
                    environment=environment,
                    account_id=account.id,
                    deploy_role_arn=account.deploy_role_arn,
                    region=primary_region,
                    security_account=declaration.security_account,
                    policies_by_role=policies_by_role,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.parameters = None
        if declaration.parameters:
            self.parameters = ParameterSet(
                f"{name}-parameters",
                ParameterSetArgs(environment=environment, parameters=declaration.parameters, provider=primary),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.alerts = None
        if declaration.alerts is not None:
            self.alerts = RotationAlerts(
                f"{name}-alerts",
                RotationAlertsArgs(
                    environment=environment,
                    security_account=declaration.security_account,
                    primary_region=primary_region,
                    regions=declaration.regions,
                    alerts=declaration.alerts,
                    providers=self.providers,
                    kms_key_arn=self.kms_key_arns[primary_region],
                    tags=tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.stack_outputs = {
            "environment": environment,
            "secrets": {
                secret_name: {"arn_by_region": managed.arn_by_region} for secret_name, managed in self.secrets.items()
            },
            "secret_names": list(self.secrets),
            "kms_key_arns": dict(self.kms_key_arns),
            "parameter_names": [parameter.name for parameter in declaration.parameters],
        }
        if self.alerts is not None:
            self.stack_outputs["alert_topic_arn"] = self.alerts.topic_arn
        self.register_outputs(self.stack_outputs)

    @staticmethod
    def _key_service_statements(declaration: Declaration, region: str) -> list[dict[str, Any]]:
        # A created alert topic is encrypted with the primary region's key, so EventBridge must be
        # able to use that key (components/alerts.py says why).
        alerts = declaration.alerts
        if alerts is None or alerts.topic is None or region != declaration.primary_region:
            return []
        return [eventbridge_key_statement()]
