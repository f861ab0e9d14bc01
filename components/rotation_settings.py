"""Rotation decisions as pure functions: which function rotates a secret, and how often.

- `rotation_rules`: the declaration's schedule -> SecretRotation's rotation_rules;
- `ROTATION_APPLICATIONS` / `sar_application_id` / `sar_parameters`: the AWS Serverless
  Application Repository rotation application of each `managed:` engine, pinned, and the
  parameters its template takes;
- `managed_rotation_groups` / `bundled_rotation_groups`: which secrets share one deployed
  rotation function (one per environment, engine and network placement);
- `physical_name`: AWS names (functions, stacks, roles) within AWS's length limits.

Decision on `rotate_immediately`: always false. The first value is written by the deployment
(generated, or from config); rotating at once would race the consumers and, for a generated
database password, fail because the database has not been given that password yet. Secrets
Manager still exercises the function's testSecret step when rotation is configured, and the
first rotation happens one interval later (or on demand: `aws secretsmanager rotate-secret`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from secrets_layout.components.secret_settings import adapter_tags, excluded_characters
from secrets_layout.declaration.models import BundledFunction, ManagedRotation, Rotation, Secret, Vpc

ROTATE_IMMEDIATELY = False
SAR_ACCOUNT = "297356227824"
SAR_REGION = "us-east-1"
SAR_CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY")
MAX_FUNCTION_NAME = 64


@dataclass(frozen=True)
class RotationApplication:
    """An AWS-published rotation application in the Serverless Application Repository."""

    name: str
    semantic_version: str
    multi_user: bool


# Names and versions as the AWS CDK pins them (aws-cdk-lib SecretRotationApplication); the
# DocumentDB functions are published under the MongoDB name. Pinned so that a deploy never
# picks up a new function version unreviewed.
ROTATION_APPLICATIONS: Mapping[ManagedRotation, RotationApplication] = MappingProxyType(
    {
        ManagedRotation.RDS_POSTGRESQL_SINGLE_USER: RotationApplication("SecretsManagerRDSPostgreSQLRotationSingleUser", "1.1.671", False),
        ManagedRotation.RDS_POSTGRESQL_MULTI_USER: RotationApplication("SecretsManagerRDSPostgreSQLRotationMultiUser", "1.1.671", True),
        ManagedRotation.RDS_MYSQL_SINGLE_USER: RotationApplication("SecretsManagerRDSMySQLRotationSingleUser", "1.1.671", False),
        ManagedRotation.RDS_MYSQL_MULTI_USER: RotationApplication("SecretsManagerRDSMySQLRotationMultiUser", "1.1.671", True),
        ManagedRotation.RDS_MARIADB_SINGLE_USER: RotationApplication("SecretsManagerRDSMariaDBRotationSingleUser", "1.1.670", False),
        ManagedRotation.RDS_MARIADB_MULTI_USER: RotationApplication("SecretsManagerRDSMariaDBRotationMultiUser", "1.1.670", True),
        ManagedRotation.RDS_ORACLE_SINGLE_USER: RotationApplication("SecretsManagerRDSOracleRotationSingleUser", "1.1.671", False),
        ManagedRotation.RDS_ORACLE_MULTI_USER: RotationApplication("SecretsManagerRDSOracleRotationMultiUser", "1.1.671", True),
        ManagedRotation.RDS_SQLSERVER_SINGLE_USER: RotationApplication("SecretsManagerRDSSQLServerRotationSingleUser", "1.1.670", False),
        ManagedRotation.RDS_SQLSERVER_MULTI_USER: RotationApplication("SecretsManagerRDSSQLServerRotationMultiUser", "1.1.671", True),
        ManagedRotation.REDSHIFT_SINGLE_USER: RotationApplication("SecretsManagerRedshiftRotationSingleUser", "1.1.671", False),
        ManagedRotation.REDSHIFT_MULTI_USER: RotationApplication("SecretsManagerRedshiftRotationMultiUser", "1.1.671", True),
        ManagedRotation.DOCUMENTDB_SINGLE_USER: RotationApplication("SecretsManagerMongoDBRotationSingleUser", "1.1.671", False),
        ManagedRotation.DOCUMENTDB_MULTI_USER: RotationApplication("SecretsManagerMongoDBRotationMultiUser", "1.1.671", True),
    }
)

MASTER_SECRET_KEY = "masterarn"
"""The JSON key of a multi-user secret that names the master (superuser) secret, as the AWS
rotation functions read it; its value must also be given to the application's template."""


def rotation_rules(rotation: Rotation) -> dict[str, Any]:
    """Rotation rules in SecretRotationRotationRulesArgs' terms.

    every_days -> automatically_after_days; schedule (rate()/cron()) -> schedule_expression;
    window -> duration (the hours a rotation may take, e.g. "3h").

    With a window, every_days becomes `rate(N days)`: AWS starts the window "according to the
    ScheduleExpression" (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html),
    and the provider sends ScheduleExpression or AutomaticallyAfterDays, never both
    (terraform-provider-aws internal/service/secretsmanager/secret_rotation.go, expandRotationRulesType),
    so a Duration next to AutomaticallyAfterDays has no schedule to open the window from.
    """
    rules: dict[str, Any] = {}
    if rotation.every_days is not None and rotation.window is not None:
        rules["schedule_expression"] = rate_in_days(rotation.every_days)
    elif rotation.every_days is not None:
        rules["automatically_after_days"] = rotation.every_days
    if rotation.schedule is not None:
        rules["schedule_expression"] = rotation.schedule
    if rotation.window is not None:
        rules["duration"] = rotation.window
    return rules


def rate_in_days(days: int) -> str:
    """`rate(1 day)` / `rate(N days)`: AWS requires the singular unit for 1 (policies/schedule.py)."""
    return f"rate({days} {'day' if days == 1 else 'days'})"


def rotation_method(secret: Secret) -> str | None:
    """managed / function / lambda_arn when the secret rotates, else None.

    A rotation that is enabled but names no function (e.g. only a schedule inherited from
    defaults) deploys no SecretRotation: there is nothing to invoke. The policy pack's
    secret-rotation-required reports such secrets.
    """
    if not secret.rotates or secret.rotation is None:
        return None
    return secret.rotation.method


def sar_application_id(managed: ManagedRotation) -> str:
    return f"arn:aws:serverlessrepo:{SAR_REGION}:{SAR_ACCOUNT}:applications/{ROTATION_APPLICATIONS[managed].name}"


def secretsmanager_endpoint(region: str) -> str:
    return f"https://secretsmanager.{region}.amazonaws.com"


def sar_parameters(
    *,
    managed: ManagedRotation,
    region: str,
    function_name: str,
    vpc: Vpc | None,
    kms_key_arn: Any = None,
    master_secret_arn: str | None = None,
    master_secret_kms_key_arn: str | None = None,
    exclude_characters: str | None = None,
) -> dict[str, Any]:
    """Parameters of the rotation application's template (all strings, lists comma-joined).

    The names are those the AWS CDK passes to the same applications (aws-cdk-lib
    aws-secretsmanager/lib/secret-rotation.ts, SecretRotation): endpoint, functionName,
    vpcSubnetIds, vpcSecurityGroupIds, excludeCharacters, kmsKeyArn, masterSecretArn,
    masterSecretKmsKeyArn. kmsKeyArn (a string, or a reference the plan resolves) lets the function's role use the secret's customer managed
    key; multi-user applications also take the master secret (and its key) they log in with;
    excludeCharacters keeps each new password to what the database accepts, like the first one.
    """
    parameters = {"endpoint": secretsmanager_endpoint(region), "functionName": function_name}
    excluded = sar_exclude_characters(exclude_characters)
    if excluded:
        parameters["excludeCharacters"] = excluded
    if vpc is not None:
        parameters["vpcSubnetIds"] = ",".join(vpc.subnet_ids)
        parameters["vpcSecurityGroupIds"] = ",".join(vpc.security_group_ids)
    if kms_key_arn is not None:
        parameters["kmsKeyArn"] = kms_key_arn
    if ROTATION_APPLICATIONS[managed].multi_user:
        if master_secret_arn is None:
            raise ValueError(
                f"{managed.value} rotation needs the master secret: put its ARN under "
                f"'{MASTER_SECRET_KEY}' in the secret's value template"
            )
        parameters["masterSecretArn"] = master_secret_arn
        if master_secret_kms_key_arn is not None:
            parameters["masterSecretKmsKeyArn"] = master_secret_kms_key_arn
    return parameters


def sar_exclude_characters(characters: str | None) -> str:
    """The excluded characters as one stable parameter value: each once, sorted, no whitespace.

    GetRandomPassword, which the AWS functions call, never includes a space unless IncludeSpace
    is true (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html),
    so whitespace excludes nothing; sorting makes secrets that exclude the same set share one application.
    """
    return "".join(sorted({character for character in characters or "" if not character.isspace()}))


def short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def physical_name(*parts: str, limit: int = MAX_FUNCTION_NAME) -> str:
    """parts joined by '-', cut to `limit` with a hash of the whole when too long (stable)."""
    name = "-".join(part for part in parts if part)
    if len(name) <= limit:
        return name
    digest = short_hash(name, length=8)
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def placement_key(vpc: Vpc | None, *extra: str | None) -> str:
    """'' for a function outside any VPC, else a short stable hash of its placement."""
    if vpc is None and not any(extra):
        return ""
    subnets = ",".join(sorted(vpc.subnet_ids)) if vpc else ""
    groups = ",".join(sorted(vpc.security_group_ids)) if vpc else ""
    return short_hash(subnets, groups, *(value or "" for value in extra))


@dataclass(frozen=True)
class ManagedRotationGroup:
    """Secrets rotated by one deployed rotation application."""

    managed: ManagedRotation
    vpc: Vpc | None
    master_secret_arn: str | None
    placement: str
    secret_names: tuple[str, ...]
    exclude_characters: str = ""
    """What new passwords must not contain (sar_exclude_characters form): the app's excludeCharacters."""

    def function_name(self, environment: str) -> str:
        return physical_name(environment, self.managed.value, self.placement)


@dataclass(frozen=True)
class BundledRotationGroup:
    """Secrets rotated by one deployment of a bundled rotation function."""

    function: BundledFunction
    vpc: Vpc | None
    placement: str
    secret_names: tuple[str, ...]
    allowed_hosts: tuple[str, ...] = ()
    """Hosts the function may call for these secrets (its ROTATION_ALLOWED_HOSTS)."""

    def function_name(self, environment: str) -> str:
        return physical_name(environment, self.function.value, self.placement)


def master_secret_arn(secret: Secret) -> str | None:
    template = secret.value.template or {}
    value = template.get(MASTER_SECRET_KEY)
    return value if isinstance(value, str) and value else None


def managed_rotation_groups(secrets: Iterable[Secret]) -> list[ManagedRotationGroup]:
    """One application per (engine, VPC, master secret, excluded characters), in order of first use.

    An engine's application is deployed once per environment and shared by every secret of
    that engine in the same network placement (and, for multi-user, with the same master).
    excludeCharacters is a parameter of the whole application, so secrets that exclude other
    characters get an application of their own rather than passwords their database refuses.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for secret in secrets:
        if rotation_method(secret) != "managed" or secret.rotation is None or secret.rotation.managed is None:
            continue
        managed = secret.rotation.managed
        master = master_secret_arn(secret) if ROTATION_APPLICATIONS[managed].multi_user else None
        excluded = sar_exclude_characters(excluded_characters(secret))
        placement = placement_key(secret.rotation.vpc, master, excluded)
        entry = groups.setdefault(
            (managed.value, placement),
            {"managed": managed, "vpc": secret.rotation.vpc, "master": master, "excluded": excluded, "names": []},
        )
        entry["names"].append(secret.name)
    return [
        ManagedRotationGroup(
            managed=entry["managed"],
            vpc=entry["vpc"],
            master_secret_arn=entry["master"],
            placement=placement,
            secret_names=tuple(entry["names"]),
            exclude_characters=entry["excluded"],
        )
        for (_, placement), entry in groups.items()
    ]


def bundled_rotation_groups(secrets: Iterable[Secret]) -> list[BundledRotationGroup]:
    """One deployment of each bundled function per VPC placement, in order of first use."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for secret in secrets:
        if rotation_method(secret) != "function" or secret.rotation is None or secret.rotation.function is None:
            continue
        placement = placement_key(secret.rotation.vpc)
        entry = groups.setdefault(
            (secret.rotation.function.value, placement),
            {"function": secret.rotation.function, "vpc": secret.rotation.vpc, "names": [], "hosts": set()},
        )
        entry["names"].append(secret.name)
        entry["hosts"].update(rotation_url_hosts(adapter_tags(secret)))
    return [
        BundledRotationGroup(
            function=entry["function"],
            vpc=entry["vpc"],
            placement=placement,
            secret_names=tuple(entry["names"]),
            allowed_hosts=tuple(sorted(entry["hosts"])),
        )
        for (_, placement), entry in groups.items()
    ]


def rotation_url_hosts(tags: Mapping[str, str]) -> set[str]:
    """Hosts named by a secret's `rotation-*-url` tags (the bundled function's endpoints).

    The function only calls a URL taken from a tag when its host is in ROTATION_ALLOWED_HOSTS,
    which comes from its environment: the hosts reviewed in the declaration, in git. Someone who
    may tag a secret in the console but not read it cannot point the next rotation elsewhere.
    """
    return {
        urlsplit(value).hostname
        for key, value in tags.items()
        if key.startswith("rotation-") and key.endswith("-url") and urlsplit(value).hostname
    }
