"""The rotation functions a layout deploys, in the primary region of the security account.

    ManagedRotationApp "<name>"                          secrets-layout:rotation:ManagedRotationApp
    ├── aws:serverlessrepository/cloudFormationStack:CloudFormationStack "<name>-app"
    └── aws:iam/rolePolicy:RolePolicy "<name>-replica-keys"   only with replicas: the replicas' keys

      The AWS rotation application of one engine (rotation_settings.ROTATION_APPLICATIONS),
      pinned, deployed once per environment, engine and network placement and shared by all
      its secrets. The application creates the function, its role and the lambda permission
      for secretsmanager.amazonaws.com itself (hence CAPABILITY_RESOURCE_POLICY). Its template
      grants the function's role only one key (kmsKeyArn, the primary's); the replicas' keys,
      needed to replicate each rotated value, are added to that role as an inline policy.

    BundledRotationFunction "<name>"                     secrets-layout:rotation:BundledRotationFunction
    ├── aws:iam/role:Role "<name>-role"                  assumed by Lambda only
    ├── aws:iam/rolePolicy:RolePolicy "<name>-policy"    exactly its secrets, keys via Secrets Manager
    ├── aws:iam/rolePolicyAttachment:RolePolicyAttachment "<name>-logs"        CloudWatch Logs
    ├── aws:iam/rolePolicyAttachment:RolePolicyAttachment "<name>-vpc-access"  only in a VPC
    ├── aws:lambda/function:Function "<name>-function"   code: the rotation/ folder
    └── aws:lambda/permission:Permission "<name>-permission"   secretsmanager.amazonaws.com, this account only

`lambda_arn:` rotations use an existing function and deploy nothing: its owner grants
Secrets Manager the permission to invoke it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.rotation import (  # noqa: F401 - this module's public names too
    APPLICATION,
    BUNDLED_ROTATION_FUNCTION,
    FUNCTION,
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
    LAMBDA_TIMEOUT_SECONDS,
    LOGS_POLICY_ARN,
    MANAGED_ROTATION_APP,
    PERMISSION,
    ROLE,
    ROLE_PATH,
    ROLE_POLICY,
    ROTATION_CODE_DIRECTORY,
    VPC_ACCESS_POLICY_ARN,
    function_environment,
    plan_bundled_rotation_function,
    plan_managed_rotation_app,
    rotation_code_files,
)
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized
from secrets_layout.declaration.models import ManagedRotation, Vpc

def rotation_code_archive(directory: Path) -> pulumi.AssetArchive:
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in rotation_code_files(directory).items()})


@dataclass
class ManagedRotationAppArgs:
    managed: ManagedRotation
    """The engine and user scheme (rds-postgresql-single-user, ...)."""
    region: str
    """The primary region: rotation runs where the primary secret lives."""
    function_name: str
    """The function's name (rotation_settings.ManagedRotationGroup.function_name)."""
    provider: aws.Provider
    vpc: Vpc | None = None
    """Subnets and security groups from which the function reaches the database."""
    kms_key_arn: pulumi.Input[str] | None = None
    """The key the rotated secrets are encrypted with; the function's role may use it."""
    kms_key_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The environment's keys by region (primary and replicas): the role may re-encrypt replicas."""
    security_account: str | None = None
    """The account of the function and the keys (needed with replica keys)."""
    master_secret_arn: str | None = None
    """Multi-user schemes: the master secret the function logs in with."""
    exclude_characters: str | None = None
    """Characters new passwords must not contain (the application's excludeCharacters)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class ManagedRotationApp(PlannedComponent):
    """An AWS-provided rotation function from the Serverless Application Repository."""

    TYPE = MANAGED_ROTATION_APP
    stack: aws.serverlessrepository.CloudFormationStack
    replica_keys: aws.iam.RolePolicy | None
    function_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedRotationAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(), PlanBuilder()
        plan_managed_rotation_app(
            plan, name, parent=None, managed=args.managed, region=args.region, function_name=args.function_name,
            provider=bindings.external(args.provider), vpc=args.vpc, kms_key_arn=bindings.external(args.kms_key_arn),
            kms_key_arns={region: bindings.external(arn) for region, arn in args.kms_key_arns.items()},
            security_account=args.security_account, master_secret_arn=args.master_secret_arn,
            exclude_characters=args.exclude_characters, tags=args.tags)
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        self.stack = realized.part(APPLICATION, f"{self._name}-app")
        self.replica_keys = realized.part(ROLE_POLICY, f"{self._name}-replica-keys")
        self.function_arn = self.stack.outputs.apply(lambda outputs: outputs["RotationLambdaARN"])


@dataclass
class BundledRotationFunctionArgs:
    function_name: str
    """The Lambda function's (and its role's) name."""
    region: str
    """The primary region: rotation runs where the primary secret lives."""
    security_account: str
    """The account of the function; only Secrets Manager of this account may invoke it."""
    kms_key_arns: Mapping[str, pulumi.Input[str]]
    """The environment's keys by region (all regions: replicas are re-encrypted on each new value)."""
    provider: aws.Provider
    vpc: Vpc | None = None
    code_directory: Path = ROTATION_CODE_DIRECTORY
    """The function's source folder; packaged without tests and caches."""
    tags: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: Sequence[str] = ()
    """Hosts that provider URLs from the secrets' `rotation-*-url` tags may name (ROTATION_ALLOWED_HOSTS)."""


class BundledRotationFunction(PlannedComponent):
    """The rotation Lambda bundled in rotation/, with its role and invoke permission."""

    TYPE = BUNDLED_ROTATION_FUNCTION
    role: aws.iam.Role
    function: aws.lambda_.Function
    permission: aws.lambda_.Permission
    function_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BundledRotationFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(), PlanBuilder()
        plan_bundled_rotation_function(
            plan, name, parent=None, function_name=args.function_name, region=args.region,
            security_account=args.security_account,
            kms_key_arns={region: bindings.external(arn) for region, arn in args.kms_key_arns.items()},
            provider=bindings.external(args.provider), vpc=args.vpc, code_directory=args.code_directory,
            tags=args.tags, allowed_hosts=args.allowed_hosts)
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        self.role = realized.part(ROLE, f"{self._name}-role")
        self.function = realized.part(FUNCTION, f"{self._name}-function")
        self.permission = realized.part(PERMISSION, f"{self._name}-permission")
        self.function_arn = self.function.arn
