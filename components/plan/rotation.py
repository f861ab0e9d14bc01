"""The plans of the rotation functions a layout deploys (components/rotation.py says what each is)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.model import Archive, Derived, Options, Ref
from secrets_layout.components.policy_documents import lambda_assume_role_policy
from secrets_layout.components.rotation_settings import (
    ROTATION_APPLICATIONS,
    SAR_CAPABILITIES,
    sar_application_id,
    sar_parameters,
    secretsmanager_endpoint,
)
from secrets_layout.declaration.models import MANAGED_BY, ManagedRotation, Vpc

MANAGED_ROTATION_APP = "secrets-layout:rotation:ManagedRotationApp"
BUNDLED_ROTATION_FUNCTION = "secrets-layout:rotation:BundledRotationFunction"
APPLICATION = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
GET_FUNCTION = "aws:lambda/getFunction:getFunction"

LAMBDA_RUNTIME = "python3.12"
LAMBDA_HANDLER = "handler.lambda_handler"
LAMBDA_TIMEOUT_SECONDS = 60
LOGS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
ROLE_PATH = "/secrets-layout/"
REPLICA_KEYS_POLICY_NAME = "secrets-layout-replica-keys"
ROTATION_CODE_DIRECTORY = Path(__file__).resolve().parent.parent.parent / "rotation"
"""The bundled rotation function's source, next to this package's folder: the repository's rotation/
(a checkout or an editable install), or secrets_layout/rotation of an installed wheel (pyproject.toml
ships it as package data beside secrets_layout/components)."""
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


def function_environment(region: str, allowed_hosts: Sequence[str]) -> dict[str, str]:
    variables = {"SECRETS_MANAGER_ENDPOINT": secretsmanager_endpoint(region)}
    if allowed_hosts:
        variables["ROTATION_ALLOWED_HOSTS"] = ",".join(allowed_hosts)
    return variables


def plan_managed_rotation_app(plan: PlanBuilder, name: str, *, parent: str | None, managed: ManagedRotation,
                              region: str, function_name: str, provider: Any, vpc: Vpc | None = None,
                              kms_key_arn: Any = None, kms_key_arns: Mapping[str, Any] | None = None,
                              security_account: str | None = None, master_secret_arn: str | None = None,
                              exclude_characters: str | None = None,
                              tags: Mapping[str, str] | None = None) -> tuple[Derived, str]:
    """AWS's rotation application of one engine; returns a reference to its function's ARN and the
    component's key (what a rotation must wait for)."""
    application = ROTATION_APPLICATIONS[managed]
    if application.multi_user and master_secret_arn is None:
        raise ValueError(f"{name}: {managed.value} rotation needs the master secret's ARN "
                         "(masterarn in the secret's value template)")
    component = plan.component(MANAGED_ROTATION_APP, name, parent=parent)
    # A plain map with the key's ARN in it, not a value computed from the ARN: in a dry run only
    # kmsKeyArn is unknown, and the pack still sees excludeCharacters (generated-credential-strength).
    parameters = sar_parameters(managed=managed, region=region, function_name=function_name, vpc=vpc,
                                kms_key_arn=kms_key_arn, master_secret_arn=master_secret_arn,
                                exclude_characters=exclude_characters)
    stack = plan.add(APPLICATION, f"{name}-app", parent=component, provider=provider, inputs={
        "name": function_name,
        "applicationId": sar_application_id(managed),
        "semanticVersion": application.semantic_version,
        "capabilities": list(SAR_CAPABILITIES),
        "parameters": parameters,
        "tags": {**(tags or {}), "managed-by": MANAGED_BY},
    })
    function_arn = Derived("item", (Ref(stack, "outputs"), "RotationLambdaARN"))
    key_arns = dict(kms_key_arns or {})
    if any(key_region != region for key_region in key_arns):
        if security_account is None:
            raise ValueError(f"{name}: replica keys need the security account")
        # The application creates the role with a generated name; the function names it.
        function = plan.invoke(GET_FUNCTION, f"{name}-function-lookup", {"functionName": function_arn},
                               parent=component, provider=provider)
        plan.add(ROLE_POLICY, f"{name}-replica-keys", parent=component, provider=provider, inputs={
            "role": Derived("last-path-segment", (Ref(function, "role"),)),
            "name": REPLICA_KEYS_POLICY_NAME,
            "policy": Derived("replica-keys-policy", (region, security_account, key_arns)),
        })
    plan.finish(component, {"function_arn": function_arn})
    return function_arn, component


def plan_bundled_rotation_function(plan: PlanBuilder, name: str, *, parent: str | None, function_name: str,
                                   region: str, security_account: str, kms_key_arns: Mapping[str, Any],
                                   provider: Any, vpc: Vpc | None, code_directory: Path,
                                   tags: Mapping[str, str] | None = None, allowed_hosts: Sequence[str] = ()) -> tuple[Ref, str]:
    """The bundled rotation Lambda with its role and invoke permission; returns a reference to the
    function's ARN and the permission's key (what a rotation must wait for)."""
    component = plan.component(BUNDLED_ROTATION_FUNCTION, name, parent=parent)
    labelled = {**(tags or {}), "managed-by": MANAGED_BY}
    role = plan.add(ROLE, f"{name}-role", parent=component, provider=provider, inputs={
        "name": function_name, "path": ROLE_PATH, "assumeRolePolicy": json.dumps(lambda_assume_role_policy()),
        "tags": labelled})
    policy = plan.add(ROLE_POLICY, f"{name}-policy", parent=component, provider=provider, inputs={
        "role": Ref(role, "name"),
        "policy": Derived("rotation-function-policy", (function_name, region, security_account, dict(kms_key_arns))),
    })
    attachments = [plan.add(ROLE_POLICY_ATTACHMENT, f"{name}-logs", parent=component, provider=provider,
                            inputs={"role": Ref(role, "name"), "policyArn": LOGS_POLICY_ARN})]
    if vpc is not None:
        attachments.append(plan.add(ROLE_POLICY_ATTACHMENT, f"{name}-vpc-access", parent=component, provider=provider,
                                    inputs={"role": Ref(role, "name"), "policyArn": VPC_ACCESS_POLICY_ARN}))
    inputs: dict[str, Any] = {
        "name": function_name, "role": Ref(role, "arn"), "runtime": LAMBDA_RUNTIME, "handler": LAMBDA_HANDLER,
        "code": Archive(tuple((archived, str(path)) for archived, path in rotation_code_files(code_directory).items())),
        "timeout": LAMBDA_TIMEOUT_SECONDS,
        "environment": {"variables": function_environment(region, allowed_hosts)},
        "tags": labelled,
    }
    if vpc is not None:
        inputs["vpcConfig"] = {"subnetIds": list(vpc.subnet_ids), "securityGroupIds": list(vpc.security_group_ids)}
    # The role's permissions must exist before the first invocation, not only the role.
    function = plan.add(FUNCTION, f"{name}-function", parent=component, provider=provider, inputs=inputs,
                        options=Options(depends_on=(policy, *attachments)))
    permission = plan.add(PERMISSION, f"{name}-permission", parent=component, provider=provider, inputs={
        "action": "lambda:InvokeFunction", "function": Ref(function, "name"),
        "principal": "secretsmanager.amazonaws.com", "sourceAccount": security_account})
    plan.finish(component, {"function_arn": Ref(function, "arn")})
    return Ref(function, "arn"), permission
