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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from secrets_layout.components.policy_documents import lambda_assume_role_policy, replica_keys_policy, rotation_function_policy
from secrets_layout.components.rotation_settings import (
    SAR_CAPABILITIES,
    ROTATION_APPLICATIONS,
    sar_application_id,
    sar_parameters,
    secretsmanager_endpoint,
)
from secrets_layout.declaration.models import MANAGED_BY, ManagedRotation, Vpc

ROTATION_CODE_DIRECTORY = Path(__file__).resolve().parent.parent / "rotation"
"""The bundled rotation function's source, next to this package's folder: the repository's rotation/
(a checkout or an editable install), or secrets_layout/rotation of an installed wheel (pyproject.toml
ships it as package data beside secrets_layout/components)."""

LAMBDA_RUNTIME = "python3.12"
LAMBDA_HANDLER = "handler.lambda_handler"
LAMBDA_TIMEOUT_SECONDS = 60
LOGS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
ROLE_PATH = "/secrets-layout/"
_EXCLUDED_DIRECTORIES = frozenset({"tests", "__pycache__", ".pytest_cache", ".mypy_cache"})


def rotation_code_files(directory: Path) -> dict[str, Path]:
    """The Python files of the function, by archive path: tests and caches left out."""
    files: dict[str, Path] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.rglob("*.py")):
        relative = path.relative_to(directory)
        if _EXCLUDED_DIRECTORIES.intersection(relative.parts[:-1]):
            continue
        if relative.name.startswith("test_") or relative.name == "conftest.py":
            continue
        files[relative.as_posix()] = path
    return files


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


class ManagedRotationApp(pulumi.ComponentResource):
    """An AWS-provided rotation function from the Serverless Application Repository."""

    stack: aws.serverlessrepository.CloudFormationStack
    replica_keys: aws.iam.RolePolicy | None
    function_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedRotationAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:rotation:ManagedRotationApp", name, None, opts)
        application = ROTATION_APPLICATIONS[args.managed]
        if application.multi_user and args.master_secret_arn is None:
            raise ValueError(
                f"{name}: {args.managed.value} rotation needs the master secret's ARN "
                "(masterarn in the secret's value template)"
            )
        parameters = pulumi.Output.from_input(args.kms_key_arn).apply(
            lambda key_arn: sar_parameters(
                managed=args.managed,
                region=args.region,
                function_name=args.function_name,
                vpc=args.vpc,
                kms_key_arn=key_arn,
                master_secret_arn=args.master_secret_arn,
                exclude_characters=args.exclude_characters,
            )
        )
        self.stack = aws.serverlessrepository.CloudFormationStack(
            f"{name}-app",
            name=args.function_name,
            application_id=sar_application_id(args.managed),
            semantic_version=application.semantic_version,
            capabilities=list(SAR_CAPABILITIES),
            parameters=parameters,
            tags={**args.tags, "managed-by": MANAGED_BY},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.function_arn = self.stack.outputs.apply(lambda outputs: outputs["RotationLambdaARN"])
        self.replica_keys = None
        if any(region != args.region for region in args.kms_key_arns):
            if args.security_account is None:
                raise ValueError(f"{name}: replica keys need the security account")
            # The application creates the role with a generated name; the function names it. An
            # invoke in output form waits for the function ARN (unknown in a first preview).
            role_arn = aws.lambda_.get_function_output(
                function_name=self.function_arn,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider),
            ).role
            key_arns = pulumi.Output.all(**{region: arn for region, arn in args.kms_key_arns.items()})
            self.replica_keys = aws.iam.RolePolicy(
                f"{name}-replica-keys",
                role=role_arn.apply(lambda arn: arn.rsplit("/", 1)[-1]),
                name="secrets-layout-replica-keys",
                policy=key_arns.apply(
                    lambda arns: json.dumps(
                        replica_keys_policy(
                            primary_region=args.region,
                            security_account=args.security_account,
                            kms_key_arns=arns,
                        )
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
        self.register_outputs({"function_arn": self.function_arn})


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


def function_environment(region: str, allowed_hosts: Sequence[str]) -> dict[str, str]:
    variables = {"SECRETS_MANAGER_ENDPOINT": secretsmanager_endpoint(region)}
    if allowed_hosts:
        variables["ROTATION_ALLOWED_HOSTS"] = ",".join(allowed_hosts)
    return variables


class BundledRotationFunction(pulumi.ComponentResource):
    """The rotation Lambda bundled in rotation/, with its role and invoke permission."""

    role: aws.iam.Role
    function: aws.lambda_.Function
    permission: aws.lambda_.Permission
    function_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BundledRotationFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:rotation:BundledRotationFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags = {**args.tags, "managed-by": MANAGED_BY}
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.function_name,
            path=ROLE_PATH,
            assume_role_policy=json.dumps(lambda_assume_role_policy()),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.name,
            policy=pulumi.Output.all(**dict(args.kms_key_arns)).apply(
                lambda key_arns: json.dumps(
                    rotation_function_policy(
                        function_name=args.function_name,
                        region=args.region,
                        security_account=args.security_account,
                        kms_key_arns=key_arns,
                    )
                )
            ),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-logs", role=self.role.name, policy_arn=LOGS_POLICY_ARN, opts=child)
        ]
        if args.vpc is not None:
            attachments.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-vpc-access", role=self.role.name, policy_arn=VPC_ACCESS_POLICY_ARN, opts=child
                )
            )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=LAMBDA_HANDLER,
            code=rotation_code_archive(args.code_directory),
            timeout=LAMBDA_TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=function_environment(args.region, args.allowed_hosts)),
            vpc_config=(
                aws.lambda_.FunctionVpcConfigArgs(
                    subnet_ids=list(args.vpc.subnet_ids), security_group_ids=list(args.vpc.security_group_ids)
                )
                if args.vpc is not None
                else None
            ),
            tags=tags,
            # The role's permissions must exist before the first invocation, not only the role.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[policy, *attachments]),
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-permission",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=args.security_account,
            opts=child,
        )
        self.function_arn = self.function.arn
        self.register_outputs({"function_arn": self.function.arn})
