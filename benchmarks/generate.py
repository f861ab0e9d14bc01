"""Generators for the benchmark (SPEC section 8): a large declaration and its Terraform twin.

`declaration_yaml(n)` writes an environments-format declaration of n secrets, each with two
replicas (us-west-2, eu-west-1), rotation and two readers in two accounts, in a realistic mix:

    i % 3 == 0  kind database     generated password in a JSON template, managed rotation
                                  (rds-postgresql / rds-mysql single user) in one of a few VPCs
    i % 3 == 1  kind api-key      generated plaintext value, the bundled api-key-rotator
    i % 3 == 2  kind oauth-token  external value, an existing rotation Lambda (lambda_arn)

`terraform_files(n)` writes the same layout as plain Terraform for checkov: a KMS key and alias
per region, and per secret `aws_secretsmanager_secret` (replica blocks on their region's
key), `aws_secretsmanager_secret_policy`, `random_password` + `aws_secretsmanager_secret_version`
for generated values, and `aws_secretsmanager_secret_rotation`; plus the rotation functions
(SAR applications, the bundled Lambda with its role). No literal secret anywhere.

Both are deterministic functions of n. `expected_resources(n)` counts what each should make.

    python benchmarks/generate.py 1000 OUT_DIR    # writes OUT_DIR/bench.yaml, OUT_DIR/policy-config.json, OUT_DIR/terraform/*.tf
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from secrets_layout.components.policy_documents import (
    kms_key_policy,
    lambda_assume_role_policy,
    replica_keys_policy,
    rotation_function_policy,
    secret_resource_policy,
    ReaderGrant,
)
from secrets_layout.components.rotation_settings import (
    ROTATION_APPLICATIONS,
    physical_name,
    placement_key,
    sar_application_id,
    sar_exclude_characters,
)
from secrets_layout.components.secret_settings import RANDOM_SPECIAL_CHARACTERS
from secrets_layout.declaration.models import ManagedRotation, Vpc
from secrets_layout.scaffold import render_policy_config

ENVIRONMENT = "prod"
SECURITY_ACCOUNT = "111111111111"
ORGANIZATION_ID = "o-a1b2c3d4e5"
PRIMARY_REGION = "us-east-1"
REPLICA_REGIONS = ("us-west-2", "eu-west-1")
REGIONS = (PRIMARY_REGION, *REPLICA_REGIONS)
ACCOUNTS = {"prod-app": "222222222222", "prod-data": "333333333333"}
ROTATION_DAYS = 30
DEFAULT_TAGS = {"owner": "platform-team", "cost-center": "cc-1001"}
TEAMS = ("payments", "orders", "identity", "search", "billing", "messaging", "analytics", "platform")
ENGINES = (
    (ManagedRotation.RDS_POSTGRESQL_SINGLE_USER, "postgres", 5432),
    (ManagedRotation.RDS_MYSQL_SINGLE_USER, "mysql", 3306),
)
DATABASE_EXCLUDED = sar_exclude_characters('"@/\\')
"""The database secrets' exclude_characters as their rotation application's excludeCharacters."""

# A few network placements: one managed rotation application per (engine, VPC placement).
VPCS = (
    ("subnet-0a1b2c3d", "sg-0a1b2c3d"),
    ("subnet-0b2c3d4e", "sg-0b2c3d4e"),
    ("subnet-0c3d4e5f", "sg-0c3d4e5f"),
)
OAUTH_ROTATOR = f"arn:aws:lambda:{PRIMARY_REGION}:{SECURITY_ACCOUNT}:function:partner-token-rotator"
BUNDLED_FUNCTION = "api-key-rotator"
LOGS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

KIND_DATABASE, KIND_API_KEY, KIND_OAUTH = "database", "api-key", "oauth-token"


@dataclass(frozen=True)
class BenchSecret:
    """One generated secret, the facts both generators write from."""

    index: int
    kind: str
    service: str
    team: str

    @property
    def name(self) -> str:
        leaf = {KIND_DATABASE: "db-credentials", KIND_API_KEY: "api-key", KIND_OAUTH: "oauth-token"}[self.kind]
        return f"{ENVIRONMENT}/{self.service}/{leaf}"

    @property
    def slug(self) -> str:
        """A Terraform-safe identifier."""
        return f"{self.service.replace('-', '_')}_{self.kind.replace('-', '_')}"

    @property
    def description(self) -> str:
        what = {KIND_DATABASE: "Database credentials", KIND_API_KEY: "Partner API key", KIND_OAUTH: "OAuth token"}
        return f"{what[self.kind]} of the {self.service} service ({self.team} team)"

    @property
    def engine(self) -> tuple[ManagedRotation, str, int]:
        return ENGINES[(self.index // 3) % len(ENGINES)]

    @property
    def vpc(self) -> tuple[str, str]:
        return VPCS[(self.index // 6) % len(VPCS)]

    @property
    def app_role(self) -> str:
        return f"{self.service.title().replace('-', '')}AppRole"

    @property
    def data_role(self) -> str:
        return f"{self.team.title()}ReportingRole"

    @property
    def partner_host(self) -> str:
        return f"api.{self.team}-partner.example.com"

    @property
    def declared_tags(self) -> dict[str, str]:
        return {"service": self.service, "team": self.team}

    @property
    def adapter(self) -> dict[str, str]:
        """The bundled rotator's adapter (rotation.adapter in the declaration)."""
        return {
            "type": "http-api-key",
            "create_url": f"https://{self.partner_host}/v1/keys",
            "verify_url": f"https://{self.partner_host}/v1/keys/self",
        }

    @property
    def tags(self) -> dict[str, str]:
        """The tags the secret gets: the declared ones, and for API keys the adapter's settings
        as the rotation-<setting> tags the function reads (rotation/README.md)."""
        tags = dict(self.declared_tags)
        if self.kind == KIND_API_KEY:
            tags["rotation-adapter"] = self.adapter["type"]
            tags.update({f"rotation-{key.replace('_', '-')}": value for key, value in self.adapter.items() if key != "type"})
        return tags

    @property
    def generated(self) -> bool:
        return self.kind in (KIND_DATABASE, KIND_API_KEY)

    @property
    def template(self) -> dict[str, object]:
        _, engine, port = self.engine
        database = self.service.replace("-", "_")
        return {
            "username": f"{database}_app",
            "engine": engine,
            "host": f"{self.service}.db.{ENVIRONMENT}.internal",
            "port": port,
            "dbname": database,
        }


def bench_secrets(n: int) -> list[BenchSecret]:
    kinds = (KIND_DATABASE, KIND_API_KEY, KIND_OAUTH)
    return [
        BenchSecret(index=i, kind=kinds[i % 3], service=f"svc-{i // 3:05d}", team=TEAMS[(i // 3) % len(TEAMS)])
        for i in range(n)
    ]


# -- declaration -------------------------------------------------------------------------------


def _flow(mapping: dict[str, object]) -> str:
    """A YAML flow mapping; every value here is a plain scalar or already-quoted JSON."""
    return "{" + ", ".join(f"{key}: {_scalar(value)}" for key, value in mapping.items()) + "}"


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if isinstance(value, dict):
        return _flow(value)
    return json.dumps(value)


def declaration_yaml(n: int) -> str:
    """An environments/<env>.yaml declaration of n secrets (valid: see the tests)."""
    lines = [
        "# yaml-language-server: $schema=schema.json",
        f"# Benchmark declaration: {n} secrets, 2 replicas, rotation and 2 readers each (benchmarks/generate.py).",
        f"environment: {ENVIRONMENT}",
        f'security_account: "{SECURITY_ACCOUNT}"',
        f"organization_id: {ORGANIZATION_ID}",
        f"primary_region: {PRIMARY_REGION}",
        "accounts:",
        *(f'  {name}: "{account}"' for name, account in ACCOUNTS.items()),
        "defaults:",
        "  recovery_window_days: 30",
        f"  replicas: [{', '.join(REPLICA_REGIONS)}]",
        f"  rotation: {{every_days: {ROTATION_DAYS}}}",
        f"  tags: {_flow(DEFAULT_TAGS)}",
        "secrets:",
    ]
    for secret in bench_secrets(n):
        lines.append(f"  - name: {secret.name}")
        lines.append(f"    description: {secret.description}")
        lines.append(f"    kind: {secret.kind}")
        if secret.kind == KIND_DATABASE:
            managed, _, _ = secret.engine
            subnet, group = secret.vpc
            lines.append("    value:")
            lines.append('      generate: {key: password, length: 32, exclude_characters: "\\"@/\\\\"}')
            lines.append(f"      template: {_flow(secret.template)}")
            lines.append(
                f"    rotation: {{managed: {managed.value}, bootstrap: database-reads-secret, vpc: {{subnet_ids: [{subnet}], "
                f"security_group_ids: [{group}]}}, window: 3h}}"
            )
        elif secret.kind == KIND_API_KEY:
            lines.append("    format: plaintext")
            lines.append("    value: {generate: {length: 40, exclude_punctuation: true}}")
            lines.append(f"    rotation: {{function: {BUNDLED_FUNCTION}, adapter: {_flow(secret.adapter)}}}")
        else:
            lines.append("    value: {external: true}")
            lines.append(f'    rotation: {{lambda_arn: "{OAUTH_ROTATOR}", every_days: 60}}')
        lines.append("    readers:")
        lines.append(f"      - {{account: prod-app, roles: [{secret.app_role}]}}")
        lines.append(f"      - {{account: prod-data, roles: [{secret.data_role}], stages: [AWSCURRENT, AWSPREVIOUS]}}")
        lines.append(f"    tags: {_flow(secret.declared_tags)}")
    lines.append("parameters:")
    lines.append(f"  - {{name: /{ENVIRONMENT}/platform/log-level, value: info, description: Log level of the platform services}}")
    return "\n".join(lines) + "\n"


CHANGED_DESCRIPTION = " (changed in a pull request)"
SETTINGS_FILE = "_environment.yaml"
"""The settings file of an environment folder (secrets_layout/declaration/folder.py, being built in
parallel): the environment's settings; the other files hold `secrets:` and `parameters:` of one team."""


def changed_indexes(n: int, changed: int) -> list[int]:
    """Which of n secrets a pull request of `changed` secrets touches: spread evenly over the file."""
    changed = max(0, min(changed, n))
    return [index * n // changed for index in range(changed)] if changed else []


def _split_declaration(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """A generated declaration cut into its settings lines, one block of lines per secret, and the
    parameters section."""
    lines = text.splitlines()
    start, end = lines.index("secrets:"), lines.index("parameters:")
    blocks: list[list[str]] = []
    for line in lines[start + 1:end]:
        if line.startswith("  - name: "):
            blocks.append([])
        blocks[-1].append(line)
    return lines[:start], blocks, lines[end:]


def changed_declaration_yaml(n: int, changed: int) -> str:
    """declaration_yaml(n) where `changed` secrets (changed_indexes) have a new description: what a
    pull request changes (an in-place update of each of their secrets)."""
    settings, blocks, parameters = _split_declaration(declaration_yaml(n))
    for index in changed_indexes(n, changed):
        blocks[index] = [line + CHANGED_DESCRIPTION if line.startswith("    description: ") else line
                         for line in blocks[index]]
    return "\n".join([*settings, "secrets:", *(line for block in blocks for line in block), *parameters]) + "\n"


def folder_declaration(text: str, files: int) -> dict[str, str]:
    """A generated declaration as an environment folder: SETTINGS_FILE with the settings, and its
    secrets spread over `files` team files (team-000.yaml, ...; the parameters go in the first)."""
    settings, blocks, parameters = _split_declaration(text)
    files = max(1, min(files, len(blocks)))
    folder = {SETTINGS_FILE: "\n".join(settings) + "\n"}
    for number in range(files):
        part = blocks[number * len(blocks) // files:(number + 1) * len(blocks) // files]
        body = ["secrets:", *(line for block in part for line in block), *(parameters if number == 0 else [])]
        folder[f"team-{number:03d}.yaml"] = "\n".join(body) + "\n"
    return folder


def write_folder(files: dict[str, str], directory: Path) -> Path:
    """Write an environment folder (folder_declaration) to `directory`, replacing its YAML files."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.yaml"):
        stale.unlink()
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def policy_config() -> dict[str, object]:
    """A --policy-config for the benchmark's accounts: what `secrets-layout init prod` writes for them."""
    return json.loads(render_policy_config(ENVIRONMENT, security_account=SECURITY_ACCOUNT, accounts=ACCOUNTS,
                                           regions=list(REGIONS)))


# -- what both should make ------------------------------------------------------------------------


def managed_placements(n: int) -> list[tuple[ManagedRotation, tuple[str, str]]]:
    """(engine, VPC) pairs of the database secrets, in order of first use: one SAR app each."""
    seen: dict[tuple[ManagedRotation, tuple[str, str]], None] = {}
    for secret in bench_secrets(n):
        if secret.kind == KIND_DATABASE:
            seen.setdefault((secret.engine[0], secret.vpc), None)
    return list(seen)


def expected_resources(n: int) -> dict[str, int]:
    """Terraform resource type -> count, for n secrets (the Pulumi layout makes the same)."""
    secrets = bench_secrets(n)
    kinds = [secret.kind for secret in secrets]
    bundled = 1 if KIND_API_KEY in kinds else 0
    counts = {
        "aws_kms_key": len(REGIONS),
        "aws_kms_alias": len(REGIONS),
        "aws_secretsmanager_secret": n,
        "aws_secretsmanager_secret_policy": n,
        "random_password": sum(secret.generated for secret in secrets),
        "aws_secretsmanager_secret_version": sum(secret.generated for secret in secrets),
        "aws_secretsmanager_secret_rotation": n,
        "aws_serverlessapplicationrepository_cloudformation_stack": len(managed_placements(n)),
        "aws_iam_role": bundled,
        # The bundled function's policy, and the replica keys on each AWS rotation app's role.
        "aws_iam_role_policy": bundled + len(managed_placements(n)),
        "aws_iam_role_policy_attachment": bundled,
        "aws_lambda_function": bundled,
        "aws_lambda_permission": bundled,
        "aws_ssm_parameter": 1,
    }
    return {kind: count for kind, count in counts.items() if count}


# -- Terraform ----------------------------------------------------------------------------------

_PROVIDER_ALIAS = {region: region.replace("-", "_") for region in REPLICA_REGIONS}


def _hcl(value: object, indent: int = 0) -> str:
    """A Terraform expression for plain data (strings, numbers, bools, lists, maps)."""
    pad = "  " * (indent + 1)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(item, indent) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        body = "\n".join(f"{pad}{json.dumps(key)} = {_hcl(item, indent + 1)}" for key, item in value.items())
        return "{\n" + body + "\n" + "  " * indent + "}"
    raise TypeError(type(value))


def _block(kind: str, labels: tuple[str, ...], body: list[str]) -> str:
    head = " ".join([kind, *(json.dumps(label) for label in labels)])
    return head + " {\n" + "\n".join(f"  {line}" if line else "" for line in body) + "\n}\n"


def _provider_ref(region: str) -> str:
    return "aws" if region == PRIMARY_REGION else f"aws.{_PROVIDER_ALIAS[region]}"


def _kms_ref(region: str) -> str:
    return f"aws_kms_key.secrets_{region.replace('-', '_')}.arn"


def _key_placeholder(region: str) -> str:
    """A key ARN to render a policy with, replaced by the key's reference afterwards."""
    return f"arn:aws:kms:{region}:{SECURITY_ACCOUNT}:key/KEY-{region}"


def _with_key_refs(rendered: str) -> str:
    """The key ARNs are resource references in Terraform: put them in after rendering."""
    for region in REGIONS:
        rendered = rendered.replace(f'"{_key_placeholder(region)}"', _kms_ref(region))
    return rendered


SECRETS_PER_FILE = 100
"""Secrets per .tf file. A real repository splits its Terraform too, and checkov gives up on
a file that takes its HCL parser more than HCL_PARSE_TIMEOUT_SEC (10 s) to read: one file of
1,000 secrets (3.6 MB) does."""


def terraform_files(n: int) -> dict[str, str]:
    """The same layout as Terraform (resource by resource, same settings) for checkov.

    main.tf holds the providers, keys, rotation functions and parameters;
    secrets-NNN.tf holds SECRETS_PER_FILE secrets each.
    """
    secrets = bench_secrets(n)
    readers = sorted(
        {(ACCOUNTS["prod-app"], secret.app_role) for secret in secrets}
        | {(ACCOUNTS["prod-data"], secret.data_role) for secret in secrets}
    )
    out: list[str] = [
        f"# Benchmark: the layout of benchmarks/generate.py declaration_yaml({n}) as plain Terraform.\n",
        _block(
            "terraform",
            (),
            [
                "required_providers {",
                '  aws = { source = "hashicorp/aws", version = "~> 5.0" }',
                '  random = { source = "hashicorp/random", version = "~> 3.6" }',
                "}",
            ],
        ),
        _block("provider", ("aws",), [f'region              = "{PRIMARY_REGION}"', f'allowed_account_ids = ["{SECURITY_ACCOUNT}"]']),
    ]
    for region, alias in _PROVIDER_ALIAS.items():
        out.append(
            _block(
                "provider",
                ("aws",),
                [f'alias               = "{alias}"', f'region              = "{region}"', f'allowed_account_ids = ["{SECURITY_ACCOUNT}"]'],
            )
        )
    tags = {"environment": ENVIRONMENT, "managed-by": "secrets-layout"}
    for region in REGIONS:
        ident = f"secrets_{region.replace('-', '_')}"
        policy = kms_key_policy(region=region, security_account=SECURITY_ACCOUNT, reader_roles=readers)
        out.append(
            _block(
                "resource",
                ("aws_kms_key", ident),
                [
                    f"provider                = {_provider_ref(region)}",
                    f"description             = {_hcl(f'Secrets Manager secrets of {ENVIRONMENT} ({region})')}",
                    "enable_key_rotation     = true",
                    "deletion_window_in_days = 30",
                    f"policy                  = jsonencode({_hcl(policy, 1)})",
                    f"tags                    = {_hcl(tags, 1)}",
                ],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_kms_alias", ident),
                [
                    f"provider      = {_provider_ref(region)}",
                    f'name          = "alias/secrets/{ENVIRONMENT}"',
                    f"target_key_id = aws_kms_key.{ident}.key_id",
                ],
            )
        )

    # Rotation functions: one SAR application per (engine, VPC), the bundled Lambda for API keys.
    sar_idents: dict[tuple[ManagedRotation, tuple[str, str]], str] = {}
    for managed, (subnet, group) in managed_placements(n):
        vpc = Vpc(subnet_ids=[subnet], security_group_ids=[group])
        function_name = physical_name(ENVIRONMENT, managed.value, placement_key(vpc, None, DATABASE_EXCLUDED))
        ident = function_name.replace("-", "_")
        sar_idents[(managed, (subnet, group))] = ident
        parameters = {
            "endpoint": f"https://secretsmanager.{PRIMARY_REGION}.amazonaws.com",
            "functionName": function_name,
            "excludeCharacters": DATABASE_EXCLUDED,
            "vpcSubnetIds": subnet,
            "vpcSecurityGroupIds": group,
        }
        out.append(
            _block(
                "resource",
                ("aws_serverlessapplicationrepository_cloudformation_stack", ident),
                [
                    f'name             = "{function_name}"',
                    f'application_id   = "{sar_application_id(managed)}"',
                    f'semantic_version = "{ROTATION_APPLICATIONS[managed].semantic_version}"',
                    'capabilities     = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]',
                    f"parameters = merge({_hcl(parameters, 1)}, {{ kmsKeyArn = {_kms_ref(PRIMARY_REGION)} }})",
                    'tags             = { "managed-by" = "secrets-layout" }',
                ],
            )
        )
        # The application's role: found through its function; it gets the replicas' keys.
        replica_policy = replica_keys_policy(
            primary_region=PRIMARY_REGION,
            security_account=SECURITY_ACCOUNT,
            kms_key_arns={region: _key_placeholder(region) for region in REGIONS},
        )
        out.append(
            _block(
                "data",
                ("aws_lambda_function", ident),
                [f'function_name = aws_serverlessapplicationrepository_cloudformation_stack.{ident}.outputs["RotationLambdaARN"]'],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_iam_role_policy", f"{ident}_replica_keys"),
                [
                    f'role   = element(split("/", data.aws_lambda_function.{ident}.role), length(split("/", data.aws_lambda_function.{ident}.role)) - 1)',
                    'name   = "secrets-layout-replica-keys"',
                    f"policy = jsonencode({_with_key_refs(_hcl(replica_policy, 1))})",
                ],
            )
        )
    api_keys = [secret.name for secret in secrets if secret.kind == KIND_API_KEY]
    allowed_hosts = ",".join(sorted({secret.partner_host for secret in secrets if secret.kind == KIND_API_KEY}))
    if api_keys:
        function_name = f"{ENVIRONMENT}-{BUNDLED_FUNCTION}"
        role_policy = rotation_function_policy(
            function_name=function_name,
            region=PRIMARY_REGION,
            security_account=SECURITY_ACCOUNT,
            kms_key_arns={region: _key_placeholder(region) for region in REGIONS},
        )
        rendered_policy = _with_key_refs(_hcl(role_policy, 1))
        out.append(
            _block(
                "resource",
                ("aws_iam_role", "api_key_rotator"),
                [
                    f'name               = "{function_name}"',
                    'path               = "/secrets-layout/"',
                    f"assume_role_policy = jsonencode({_hcl(lambda_assume_role_policy(), 1)})",
                    'tags               = { "managed-by" = "secrets-layout" }',
                ],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_iam_role_policy", "api_key_rotator"),
                ["role   = aws_iam_role.api_key_rotator.name", f"policy = jsonencode({rendered_policy})"],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_iam_role_policy_attachment", "api_key_rotator_logs"),
                ["role       = aws_iam_role.api_key_rotator.name", f'policy_arn = "{LOGS_POLICY_ARN}"'],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_lambda_function", "api_key_rotator"),
                [
                    f'function_name = "{function_name}"',
                    "role          = aws_iam_role.api_key_rotator.arn",
                    'runtime       = "python3.12"',
                    'handler       = "handler.lambda_handler"',
                    'filename      = "rotation.zip"',
                    "timeout       = 60",
                    "environment {",
                    "  variables = {",
                    f'    SECRETS_MANAGER_ENDPOINT = "https://secretsmanager.{PRIMARY_REGION}.amazonaws.com"',
                    f'    ROTATION_ALLOWED_HOSTS   = "{allowed_hosts}"',
                    "  }",
                    "}",
                    'tags       = { "managed-by" = "secrets-layout" }',
                    "depends_on = [aws_iam_role_policy.api_key_rotator, aws_iam_role_policy_attachment.api_key_rotator_logs]",
                ],
            )
        )
        out.append(
            _block(
                "resource",
                ("aws_lambda_permission", "api_key_rotator"),
                [
                    'action         = "lambda:InvokeFunction"',
                    "function_name  = aws_lambda_function.api_key_rotator.function_name",
                    'principal      = "secretsmanager.amazonaws.com"',
                    f'source_account = "{SECURITY_ACCOUNT}"',
                ],
            )
        )

    out.append(
        _block(
            "resource",
            ("aws_ssm_parameter", "platform_log_level"),
            [
                f'name        = "/{ENVIRONMENT}/platform/log-level"',
                'type        = "String"',
                'value       = "info"',
                'description = "Log level of the platform services"',
                f"tags        = {_hcl(tags, 1)}",
            ],
        )
    )
    files = {"main.tf": "\n".join(out)}
    for start in range(0, n, SECRETS_PER_FILE):
        chunk = secrets[start : start + SECRETS_PER_FILE]
        blocks = [f"# Secrets {start} to {start + len(chunk) - 1} of {n}.\n"]
        for secret in chunk:
            blocks.extend(_secret_blocks(secret, sar_idents))
        files[f"secrets-{start // SECRETS_PER_FILE:03d}.tf"] = "\n".join(blocks)
    return files


def _secret_blocks(secret: BenchSecret, sar_idents: dict) -> list[str]:
    ident = secret.slug
    blocks: list[str] = []
    tags = {**DEFAULT_TAGS, **secret.tags, "environment": ENVIRONMENT, "kind": secret.kind, "managed-by": "secrets-layout"}
    body = [
        f"name                    = {_hcl(secret.name)}",
        f"description             = {_hcl(secret.description)}",
        f"kms_key_id              = {_kms_ref(PRIMARY_REGION)}",
        "recovery_window_in_days = 30",
    ]
    for region in REPLICA_REGIONS:
        body += ["replica {", f'  region     = "{region}"', f"  kms_key_id = {_kms_ref(region)}", "}"]
    body += [f"tags = {_hcl(tags, 1)}", "lifecycle {", "  prevent_destroy = true", "}"]
    blocks.append(_block("resource", ("aws_secretsmanager_secret", ident), body))

    policy = secret_resource_policy(
        readers=[
            ReaderGrant("prod-app", ACCOUNTS["prod-app"], (secret.app_role,)),
            ReaderGrant("prod-data", ACCOUNTS["prod-data"], (secret.data_role,), ("AWSCURRENT", "AWSPREVIOUS")),
        ],
        security_account=SECURITY_ACCOUNT,
        environment_account_ids=list(ACCOUNTS.values()),
        organization_id=ORGANIZATION_ID,
    )
    blocks.append(
        _block(
            "resource",
            ("aws_secretsmanager_secret_policy", ident),
            [
                f"secret_arn          = aws_secretsmanager_secret.{ident}.arn",
                "block_public_policy = true",
                f"policy              = jsonencode({_hcl(policy, 1)})",
            ],
        )
    )

    if secret.generated:
        if secret.kind == KIND_DATABASE:
            excluded = "\"@/\\"
            special = "".join(c for c in RANDOM_SPECIAL_CHARACTERS if c not in excluded)
            password = ["length           = 32", "special          = true", f"override_special = {_hcl(special)}"]
            value = f"jsonencode(merge({_hcl(secret.template, 1)}, {{ password = random_password.{ident}.result }}))"
        else:
            password = ["length  = 40", "special = false"]
            value = f"random_password.{ident}.result"
        blocks.append(_block("resource", ("random_password", ident), password + ["lifecycle {", "  prevent_destroy = true", "}"]))
        blocks.append(
            _block(
                "resource",
                ("aws_secretsmanager_secret_version", ident),
                [
                    f"secret_id      = aws_secretsmanager_secret.{ident}.id",
                    f"secret_string  = {value}",
                    'version_stages = ["AWSCURRENT", "secrets-layout-initial"]',
                    "lifecycle {",
                    "  ignore_changes = [secret_string, version_stages]",
                    "}",
                ],
            )
        )

    if secret.kind == KIND_DATABASE:
        lambda_arn = f'aws_serverlessapplicationrepository_cloudformation_stack.{sar_idents[(secret.engine[0], secret.vpc)]}.outputs["RotationLambdaARN"]'
        rules = [f"automatically_after_days = {ROTATION_DAYS}", 'duration                 = "3h"']
        depends = f"aws_secretsmanager_secret_version.{ident}"
    elif secret.kind == KIND_API_KEY:
        lambda_arn = "aws_lambda_function.api_key_rotator.arn"
        rules = [f"automatically_after_days = {ROTATION_DAYS}"]
        depends = f"aws_secretsmanager_secret_version.{ident}, aws_lambda_permission.api_key_rotator"
    else:
        lambda_arn = _hcl(OAUTH_ROTATOR)
        rules = ["automatically_after_days = 60"]
        depends = ""
    rotation = [
        f"secret_id           = aws_secretsmanager_secret.{ident}.id",
        f"rotation_lambda_arn = {lambda_arn}",
        "rotate_immediately  = false",
        "rotation_rules {",
        *(f"  {rule}" for rule in rules),
        "}",
    ]
    if depends:
        rotation.append(f"depends_on = [{depends}]")
    blocks.append(_block("resource", ("aws_secretsmanager_secret_rotation", ident), rotation))
    return blocks


def write_inputs(n: int, directory: Path) -> dict[str, Path]:
    """bench.yaml, policy-config.json and terraform/main.tf for n secrets in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    declaration = directory / "bench.yaml"
    declaration.write_text(declaration_yaml(n))
    config = directory / "policy-config.json"
    config.write_text(json.dumps(policy_config(), indent=2) + "\n")
    tf_dir = directory / "terraform"
    tf_dir.mkdir(exist_ok=True)
    for stale in tf_dir.glob("*.tf"):
        stale.unlink()
    for file_name, text in terraform_files(n).items():
        (tf_dir / file_name).write_text(text)
    return {"declaration": declaration, "policy_config": config, "terraform": tf_dir}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python benchmarks/generate.py N OUT_DIR")
    paths = write_inputs(int(sys.argv[1]), Path(sys.argv[2]))
    for what, path in paths.items():
        print(f"{what}: {path}")
