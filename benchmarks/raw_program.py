"""The layout registered with the raw Pulumi SDK: the same resources, no components.

The baseline of "components add <= 30% over raw registration" (SPEC section 8): for a
declaration, this registers every custom resource that `components.SecretsLayout` registers,
with the same type, logical name, inputs and resource options (provider, protect,
ignore_changes, additional_secret_outputs, depends_on), and exports the same stack outputs,
but with no ComponentResource in between (every resource is a child of the stack) and no
`register_outputs`. The inputs come from the same pure functions the components call
(policy documents, rotation and secret settings), so the difference measured is the cost of
the component layer, not of computing inputs differently.

Consumer grants (accounts with deploy_role_arn) are not part of the benchmark declaration and
are not reproduced here; `raw_layout` refuses a declaration that needs them.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from secrets_layout.components.kms import key_alias
from secrets_layout.components.policy_documents import (
    kms_key_policy,
    lambda_assume_role_policy,
    reader_roles,
    replica_keys_policy,
    rotation_function_policy,
    secret_policy_for,
)
from secrets_layout.components.rotation import (
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
    LAMBDA_TIMEOUT_SECONDS,
    LOGS_POLICY_ARN,
    ROLE_PATH,
    ROTATION_CODE_DIRECTORY,
    VPC_ACCESS_POLICY_ARN,
    function_environment,
    rotation_code_archive,
)
from secrets_layout.components.rotation_settings import (
    ROTATE_IMMEDIATELY,
    ROTATION_APPLICATIONS,
    SAR_CAPABILITIES,
    bundled_rotation_groups,
    managed_rotation_groups,
    rotation_method,
    rotation_rules,
    sar_application_id,
    sar_parameters,
)
from secrets_layout.components.secret import VALUE_IGNORED_WHEN_ROTATING
from secrets_layout.components.secret_settings import (
    INITIAL_VERSION_STAGE,
    arns_by_region,
    parameter_resource_suffix,
    parameter_tags,
    password_settings,
    render_generated_value,
    secret_tags,
)
from secrets_layout.declaration.models import MANAGED_BY, Declaration


def _suffixed(*parts: str) -> str:
    return "-".join(part for part in parts if part)


def raw_layout(declaration: Declaration, config: pulumi.Config | None = None) -> dict[str, Any]:
    """Register the layout of `declaration` resource by resource; return the stack outputs."""
    if any(account.deploy_role_arn for account in declaration.accounts.values()):
        raise ValueError("raw_layout does not reproduce consumer grants (deploy_role_arn)")
    name = environment = declaration.environment
    primary_region = declaration.primary_region
    tags = {"environment": environment}

    providers = {
        region: aws.Provider(f"{name}-aws-{region}", region=region, allowed_account_ids=[declaration.security_account])
        for region in dict.fromkeys(declaration.regions)
    }
    primary = providers[primary_region]

    kms_key_arns: dict[str, pulumi.Input[str]] = {}
    readers = reader_roles(declaration)
    for region in declaration.regions:
        existing = declaration.kms.keys.get(region)
        if existing is not None:
            kms_key_arns[region] = existing
            continue
        key_name = f"{name}-kms-{region}"
        key = aws.kms.Key(
            f"{key_name}-key",
            description=f"Secrets Manager secrets of {environment} ({region})",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(
                kms_key_policy(region=region, security_account=declaration.security_account, reader_roles=readers)
            ),
            tags={"environment": environment, "managed-by": MANAGED_BY},
            opts=pulumi.ResourceOptions(provider=providers[region], protect=declaration.protected_by_default),
        )
        aws.kms.Alias(
            f"{key_name}-alias",
            name=key_alias(environment),
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(provider=providers[region]),
        )
        kms_key_arns[region] = key.arn

    rotation_arns: dict[str, pulumi.Input[str]] = {}
    rotation_dependencies: dict[str, list[pulumi.Resource]] = {}
    for group in managed_rotation_groups(declaration.secrets):
        app_name = _suffixed(f"{name}-rotation-{group.managed.value}", group.placement)
        function_name = group.function_name(environment)
        parameters = pulumi.Output.from_input(kms_key_arns[primary_region]).apply(
            lambda key_arn, group=group, function_name=function_name: sar_parameters(
                managed=group.managed,
                region=primary_region,
                function_name=function_name,
                vpc=group.vpc,
                kms_key_arn=key_arn,
                master_secret_arn=group.master_secret_arn,
                exclude_characters=group.exclude_characters,
            )
        )
        stack = aws.serverlessrepository.CloudFormationStack(
            f"{app_name}-app",
            name=function_name,
            application_id=sar_application_id(group.managed),
            semantic_version=ROTATION_APPLICATIONS[group.managed].semantic_version,
            capabilities=list(SAR_CAPABILITIES),
            parameters=parameters,
            tags={**tags, "managed-by": MANAGED_BY},
            opts=pulumi.ResourceOptions(provider=primary),
        )
        function_arn = stack.outputs.apply(lambda outputs: outputs["RotationLambdaARN"])
        dependencies: list[pulumi.Resource] = [stack]
        if len(kms_key_arns) > 1:
            function_role = aws.lambda_.get_function_output(
                function_name=function_arn, opts=pulumi.InvokeOutputOptions(provider=primary)
            ).role
            dependencies.append(
                aws.iam.RolePolicy(
                    f"{app_name}-replica-keys",
                    role=function_role.apply(lambda arn: arn.rsplit("/", 1)[-1]),
                    name="secrets-layout-replica-keys",
                    policy=pulumi.Output.all(**kms_key_arns).apply(
                        lambda arns: json.dumps(
                            replica_keys_policy(
                                primary_region=primary_region,
                                security_account=declaration.security_account,
                                kms_key_arns=arns,
                            )
                        )
                    ),
                    opts=pulumi.ResourceOptions(provider=primary),
                )
            )
        for secret_name in group.secret_names:
            rotation_arns[secret_name] = function_arn
            rotation_dependencies[secret_name] = dependencies

    for bundled in bundled_rotation_groups(declaration.secrets):
        function_resource_name = _suffixed(f"{name}-rotation-{bundled.function.value}", bundled.placement)
        function_name = bundled.function_name(environment)
        child = pulumi.ResourceOptions(provider=primary)
        function_tags = {**tags, "managed-by": MANAGED_BY}
        role = aws.iam.Role(
            f"{function_resource_name}-role",
            name=function_name,
            path=ROLE_PATH,
            assume_role_policy=json.dumps(lambda_assume_role_policy()),
            tags=function_tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{function_resource_name}-policy",
            role=role.name,
            policy=pulumi.Output.all(**kms_key_arns).apply(
                lambda key_arns, bundled=bundled: json.dumps(
                    rotation_function_policy(
                        function_name=bundled.function_name(declaration.environment),
                        region=primary_region,
                        security_account=declaration.security_account,
                        kms_key_arns=key_arns,
                    )
                )
            ),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{function_resource_name}-logs", role=role.name, policy_arn=LOGS_POLICY_ARN, opts=child)
        ]
        if bundled.vpc is not None:
            attachments.append(
                aws.iam.RolePolicyAttachment(
                    f"{function_resource_name}-vpc-access", role=role.name, policy_arn=VPC_ACCESS_POLICY_ARN, opts=child
                )
            )
        function = aws.lambda_.Function(
            f"{function_resource_name}-function",
            name=function_name,
            role=role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=LAMBDA_HANDLER,
            code=rotation_code_archive(ROTATION_CODE_DIRECTORY),
            timeout=LAMBDA_TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=function_environment(primary_region, bundled.allowed_hosts)
            ),
            vpc_config=(
                aws.lambda_.FunctionVpcConfigArgs(
                    subnet_ids=list(bundled.vpc.subnet_ids), security_group_ids=list(bundled.vpc.security_group_ids)
                )
                if bundled.vpc is not None
                else None
            ),
            tags=function_tags,
            opts=pulumi.ResourceOptions(provider=primary, depends_on=[policy, *attachments]),
        )
        permission = aws.lambda_.Permission(
            f"{function_resource_name}-permission",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=declaration.security_account,
            opts=child,
        )
        for secret_name in bundled.secret_names:
            rotation_arns[secret_name] = function.arn
            rotation_dependencies[secret_name] = [permission]
    for secret in declaration.secrets:
        if rotation_method(secret) == "lambda_arn" and secret.rotation and secret.rotation.lambda_arn:
            rotation_arns[secret.name] = secret.rotation.lambda_arn

    secret_outputs: dict[str, Any] = {}
    for declared in declaration.secrets:
        protect = declaration.protects(declared)
        lambda_arn = rotation_arns.get(declared.name)
        rotates = lambda_arn is not None
        secret = aws.secretsmanager.Secret(
            f"{declared.name}-secret",
            name=declared.name,
            description=declared.description,
            kms_key_id=kms_key_arns[primary_region],
            recovery_window_in_days=declared.recovery_window_days,
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(region=region, kms_key_id=kms_key_arns[region])
                for region in declared.replicas
            ],
            tags=secret_tags(declared, environment),
            opts=pulumi.ResourceOptions(provider=primary, protect=protect, import_=declared.import_id),
        )
        value: pulumi.Output[str] | None = None
        if declared.value.from_config is not None:
            value = pulumi.Output.secret((config or pulumi.Config()).require_secret(declared.value.from_config))
        elif declared.value.generate is not None:
            password = random.RandomPassword(
                f"{declared.name}-password",
                **password_settings(declared),
                opts=pulumi.ResourceOptions(protect=protect),
            )
            value = pulumi.Output.secret(
                password.result.apply(lambda generated, declared=declared: render_generated_value(declared, generated))
            )
        version = None
        if value is not None:
            version = aws.secretsmanager.SecretVersion(
                f"{declared.name}-version",
                secret_id=secret.id,
                secret_string=value,
                version_stages=["AWSCURRENT", INITIAL_VERSION_STAGE] if rotates else None,
                opts=pulumi.ResourceOptions(
                    provider=primary,
                    protect=protect,
                    ignore_changes=VALUE_IGNORED_WHEN_ROTATING if rotates else None,
                    additional_secret_outputs=["secret_string"],
                ),
            )
        aws.secretsmanager.SecretPolicy(
            f"{declared.name}-policy",
            secret_arn=secret.arn,
            policy=json.dumps(secret_policy_for(declaration, declared)),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(provider=primary),
        )
        if rotates and declared.rotation is not None:
            aws.secretsmanager.SecretRotation(
                f"{declared.name}-rotation",
                secret_id=secret.id,
                rotation_lambda_arn=lambda_arn,
                rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(**rotation_rules(declared.rotation)),
                rotate_immediately=ROTATE_IMMEDIATELY,
                opts=pulumi.ResourceOptions(
                    provider=primary,
                    depends_on=[*(resource for resource in [version] if resource), *rotation_dependencies.get(declared.name, [])],
                ),
            )
        secret_outputs[declared.name] = {
            "arn_by_region": secret.arn.apply(
                lambda arn, declared=declared: arns_by_region(arn, primary_region, declared.replicas)
            )
        }

    for parameter in declaration.parameters:
        aws.ssm.Parameter(
            f"{name}-parameters-{parameter_resource_suffix(parameter.name)}",
            name=parameter.name,
            type="String",
            insecure_value=parameter.value,
            description=parameter.description,
            tags=parameter_tags(parameter, environment),
            opts=pulumi.ResourceOptions(provider=primary),
        )

    return {
        "environment": environment,
        "secrets": secret_outputs,
        "secret_names": [secret.name for secret in declaration.secrets],
        "kms_key_arns": dict(kms_key_arns),
        "parameter_names": [parameter.name for parameter in declaration.parameters],
    }


def raw_program(declaration: Declaration):
    """A program callable for secrets_layout.engine.simulation.simulate."""

    def program() -> None:
        for output_name, value in raw_layout(declaration).items():
            pulumi.export(output_name, value)

    return program


def component_program(declaration: Declaration):
    """The same declaration through components.SecretsLayout, as __main__.py builds it."""
    from secrets_layout.components import SecretsLayout, SecretsLayoutArgs

    def program() -> None:
        layout = SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration))
        for output_name, value in layout.stack_outputs.items():
            pulumi.export(output_name, value)

    return program
