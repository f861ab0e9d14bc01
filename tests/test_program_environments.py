"""__main__.py itself, on the mock engine, for each example environment.

Each stack runs the real program file with its Pulumi.<stack>.yaml config and fake secret
config, exactly as `pulumi up --stack <env>` would, and every registration is checked:
the exact resource tree (types, names, parents), keys per region, policies, rotation,
protect, ignore_changes, secret marking and the stack outputs.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from secrets_layout.components.policy_documents import secret_policy_for
from secrets_layout.components.rotation_settings import ROTATION_APPLICATIONS
from secrets_layout.components.secret_settings import INITIAL_VERSION_STAGE
from components_support import (
    BUNDLED_FUNCTION,
    FUNCTION,
    KMS_ALIAS,
    KMS_KEY,
    LAYOUT,
    MANAGED_ROTATION_APP,
    MANAGED_SECRET,
    PARAMETER,
    PARAMETER_SET,
    PERMISSION,
    PROVIDER,
    RANDOM_PASSWORD,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    ROOT,
    SAR_STACK,
    SECRET,
    SECRET_CONFIG,
    SECRET_POLICY,
    SECRET_ROTATION,
    SECRET_VERSION,
    bundled_tree,
    key_tree,
    managed_app_tree,
    policy_of,
    recorded_text,
    run_program,
    secret_tree,
    tree,
    type_counts,
    urn_name,
)
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.declaration.models import ManagedRotation
from secrets_layout.engine.recorded_values import SecretValue, Simulation

STACKS = ["dev", "staging", "prod", "shared-services"]


@pytest.fixture(scope="module")
def runs() -> dict[str, Simulation]:
    return {}


def run(runs: dict[str, Simulation], stack: str) -> Simulation:
    if stack not in runs:
        runs[stack] = run_program(stack)
    return runs[stack]


def declared(stack: str):
    return load_declaration(ROOT / "environments" / f"{stack}.yaml").declaration


def parameters_tree(layout: str, names: list[str]) -> set:
    return {(PARAMETER_SET, f"{layout}-parameters", layout)} | {
        (PARAMETER, f"{layout}-parameters-{name.lstrip('/')}", f"{layout}-parameters") for name in names
    }


def layout_root(layout: str, regions: list[str]) -> set:
    nodes = {(LAYOUT, layout, f"secrets-layout-{layout}")}
    nodes |= {(PROVIDER, f"{layout}-aws-{region}", layout) for region in regions}
    for region in regions:
        nodes |= key_tree(f"{layout}-kms-{region}", parent=layout)
    return nodes


EXPECTED_TREES = {
    "dev": layout_root("dev", ["us-east-1"])
    | managed_app_tree("dev-rotation-rds-postgresql-single-user-44ccd9", parent="dev")
    | bundled_tree("dev-rotation-api-key-rotator", parent="dev")
    | secret_tree("dev/database/credentials", parent="dev", generated=True, rotation=True)
    | secret_tree("dev/payments/stripe-api-key", parent="dev", version=True, rotation=True)
    | secret_tree("dev/tools/feature-flag-sdk-key", parent="dev")
    | parameters_tree("dev", ["/dev/orders/log-level", "/dev/orders/feature-new-checkout"]),
    "staging": layout_root("staging", ["us-east-1", "us-west-2"])
    | managed_app_tree("staging-rotation-rds-postgresql-single-user-944c98", parent="staging", replica_keys=True)
    | bundled_tree("staging-rotation-api-key-rotator", parent="staging")
    | secret_tree("staging/database/credentials", parent="staging", generated=True, rotation=True)
    | secret_tree("staging/payments/stripe-api-key", parent="staging", version=True, rotation=True)
    | secret_tree("staging/crm/oauth-client-credentials", parent="staging", version=True, rotation=True)
    | parameters_tree("staging", ["/staging/orders/log-level"]),
    "prod": layout_root("prod", ["us-east-1", "us-west-2", "eu-west-1"])
    | managed_app_tree("prod-rotation-rds-postgresql-single-user-39b3ee", parent="prod", replica_keys=True)
    | managed_app_tree("prod-rotation-rds-mysql-single-user-40ea16", parent="prod", replica_keys=True)
    | bundled_tree("prod-rotation-api-key-rotator", parent="prod")
    | secret_tree("prod/database/credentials", parent="prod", generated=True, rotation=True)
    | secret_tree("prod/orders/mysql-credentials", parent="prod", generated=True, rotation=True)
    | secret_tree("prod/payments/stripe-api-key", parent="prod", version=True, rotation=True)
    | secret_tree("prod/notifications/sendgrid-api-key", parent="prod", version=True, rotation=True)
    | secret_tree("prod/legacy/partner-token", parent="prod", rotation=True, adopting=True)
    | parameters_tree("prod", ["/prod/orders/log-level", "/prod/orders/max-connections", "/prod/payments/stripe-api-base"]),
    "shared-services": layout_root("shared-services", ["us-east-1", "us-west-2"])
    | managed_app_tree("shared-services-rotation-rds-mysql-single-user-5a1e5a", parent="shared-services", replica_keys=True)
    | bundled_tree("shared-services-rotation-api-key-rotator", parent="shared-services")
    | secret_tree("shared-services/ci/github-app-key", parent="shared-services", rotation=True)
    | secret_tree("shared-services/monitoring/grafana-database", parent="shared-services", generated=True, rotation=True)
    | secret_tree("shared-services/monitoring/pagerduty-api-key", parent="shared-services", version=True, rotation=True)
    | parameters_tree("shared-services", ["/shared-services/ci/artifact-bucket", "/shared-services/monitoring/retention-days"]),
}

# The same trees as counts per type: a readable summary, and a second check.
EXPECTED_COUNTS = {
    "dev": {
        LAYOUT: 1, PROVIDER: 1, "secrets-layout:kms:RegionalKey": 1, KMS_KEY: 1, KMS_ALIAS: 1,
        MANAGED_ROTATION_APP: 1, SAR_STACK: 1,
        BUNDLED_FUNCTION: 1, ROLE: 1, ROLE_POLICY: 1, ROLE_POLICY_ATTACHMENT: 1, FUNCTION: 1, PERMISSION: 1,
        MANAGED_SECRET: 3, SECRET: 3, SECRET_POLICY: 3, RANDOM_PASSWORD: 1, SECRET_VERSION: 2, SECRET_ROTATION: 2,
        PARAMETER_SET: 1, PARAMETER: 2,
    },
    "staging": {
        LAYOUT: 1, PROVIDER: 2, "secrets-layout:kms:RegionalKey": 2, KMS_KEY: 2, KMS_ALIAS: 2,
        MANAGED_ROTATION_APP: 1, SAR_STACK: 1,
        BUNDLED_FUNCTION: 1, ROLE: 1, ROLE_POLICY: 2, ROLE_POLICY_ATTACHMENT: 1, FUNCTION: 1, PERMISSION: 1,
        MANAGED_SECRET: 3, SECRET: 3, SECRET_POLICY: 3, RANDOM_PASSWORD: 1, SECRET_VERSION: 3, SECRET_ROTATION: 3,
        PARAMETER_SET: 1, PARAMETER: 1,
    },
    "prod": {
        LAYOUT: 1, PROVIDER: 3, "secrets-layout:kms:RegionalKey": 3, KMS_KEY: 3, KMS_ALIAS: 3,
        MANAGED_ROTATION_APP: 2, SAR_STACK: 2,
        BUNDLED_FUNCTION: 1, ROLE: 1, ROLE_POLICY: 3, ROLE_POLICY_ATTACHMENT: 1, FUNCTION: 1, PERMISSION: 1,
        MANAGED_SECRET: 5, SECRET: 5, SECRET_POLICY: 4, RANDOM_PASSWORD: 2, SECRET_VERSION: 4, SECRET_ROTATION: 5,
        PARAMETER_SET: 1, PARAMETER: 3,
    },
    "shared-services": {
        LAYOUT: 1, PROVIDER: 2, "secrets-layout:kms:RegionalKey": 2, KMS_KEY: 2, KMS_ALIAS: 2,
        MANAGED_ROTATION_APP: 1, SAR_STACK: 1,
        BUNDLED_FUNCTION: 1, ROLE: 1, ROLE_POLICY: 2, ROLE_POLICY_ATTACHMENT: 1, FUNCTION: 1, PERMISSION: 1,
        MANAGED_SECRET: 3, SECRET: 3, SECRET_POLICY: 3, RANDOM_PASSWORD: 1, SECRET_VERSION: 2, SECRET_ROTATION: 3,
        PARAMETER_SET: 1, PARAMETER: 2,
    },
}


@pytest.mark.parametrize("stack", STACKS)
def test_exact_resource_tree(runs, stack):
    simulation = run(runs, stack)
    assert tree(simulation) == EXPECTED_TREES[stack]
    assert type_counts(simulation) == Counter(EXPECTED_COUNTS[stack])
    assert len(simulation.resources) == len(EXPECTED_TREES[stack]), "no name registered twice"


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_names_its_regional_provider(runs, stack):
    simulation = run(runs, stack)
    providers = {resource.urn: resource for resource in simulation.by_type(PROVIDER)}
    assert {p.inputs["region"] for p in providers.values()} == set(declared(stack).regions)
    for provider in providers.values():
        assert json.loads(provider.inputs["allowedAccountIds"]) == ["111111111111"]
        assert provider.name == f"{stack}-aws-{provider.inputs['region']}"
    for resource in simulation.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider in providers, resource.name
    primary = f"{stack}-aws-us-east-1"
    for resource in simulation.resources:
        if resource.type.startswith("aws:") and resource.type not in (KMS_KEY, KMS_ALIAS):
            assert urn_name(resource.provider) == primary, f"{resource.name} runs in the primary region"


@pytest.mark.parametrize("stack", STACKS)
def test_one_key_per_region_with_rotation_alias_and_policy(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    readers = sorted({declaration.account_id(r.account) for s in declaration.secrets for r in s.readers})
    for region in declaration.regions:
        key = simulation.get(f"{stack}-kms-{region}-key")
        assert urn_name(key.provider) == f"{stack}-aws-{region}"
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        policy = policy_of(key)
        decrypt = policy["Statement"][1]
        assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
        assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == f"secretsmanager.{region}.amazonaws.com"
        expected_readers = readers[0] if len(readers) == 1 else readers
        assert decrypt["Condition"]["StringEquals"]["kms:CallerAccount"] == expected_readers
        alias = simulation.get(f"{stack}-kms-{region}-alias")
        assert alias.inputs["name"] == f"alias/secrets/{stack}"
        assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_encrypted_per_region_with_their_regions_key(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    key_arn = {region: simulation.get(f"{stack}-kms-{region}-key").outputs["arn"] for region in declaration.regions}
    for secret in declaration.secrets:
        if secret.adopt is not None:
            continue  # imported with its live settings: tests/test_components_adoption.py
        created = simulation.get(f"{secret.name}-secret")
        assert created.inputs["name"] == secret.name
        assert created.inputs["kmsKeyId"] == key_arn["us-east-1"]
        assert created.inputs.get("replicas", []) == [
            {"region": region, "kmsKeyId": key_arn[region]} for region in secret.replicas
        ]
        assert created.inputs["recoveryWindowInDays"] == secret.recovery_window_days
        assert created.inputs.get("description") == secret.description
        assert created.import_id == secret.import_id


@pytest.mark.parametrize("stack", STACKS)
def test_resource_policies_are_the_pure_documents_with_public_policies_blocked(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    for secret in declaration.secrets:
        if secret.adopt is not None:
            assert not [r for r in simulation.resources if r.name == f"{secret.name}-policy"]
            continue  # the owner's policy stays until the migration
        policy = simulation.get(f"{secret.name}-policy")
        assert policy_of(policy) == secret_policy_for(declaration, secret)
        assert policy.inputs["blockPublicPolicy"] is True
        assert policy.inputs["secretArn"] == simulation.get(f"{secret.name}-secret").outputs["arn"]


def test_prod_database_policy_exactly(runs):
    """The reference article's example, made correct, for prod/database/credentials."""
    simulation = run(runs, "prod")
    assert policy_of(simulation.get("prod/database/credentials-policy")) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadProdApp",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/ProductionAppRole"},
                    "StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"},
                },
            },
            {
                "Sid": "ReadProdData",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "aws:PrincipalArn": [
                            "arn:aws:iam::333333333333:role/EtlRole",
                            "arn:aws:iam::333333333333:role/ReportingRole",
                        ]
                    },
                    "StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"},
                },
            },
            {
                "Sid": "DescribeForReaders",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]},
                "Action": "secretsmanager:DescribeSecret",
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "aws:PrincipalArn": [
                            "arn:aws:iam::222222222222:role/ProductionAppRole",
                            "arn:aws:iam::333333333333:role/EtlRole",
                            "arn:aws:iam::333333333333:role/ReportingRole",
                        ]
                    }
                },
            },
            {
                "Sid": "DenyOutsideOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:PrincipalAccount": "111111111111"},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            },
            {
                "Sid": "DenyOutsideEnvironmentAccounts",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222", "333333333333"]},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            },
        ],
    }


EXPECTED_TAGS = {
    "dev/tools/feature-flag-sdk-key": {
        "owner": "platform-team",
        "environment": "dev",
        "kind": "generic",
        "managed-by": "secrets-layout",
        "rotation-exempt": "the vendor issues SDK keys only through its console",
    },
    "prod/notifications/sendgrid-api-key": {
        "owner": "messaging-team",
        "cost-center": "cc-1001",
        "environment": "prod",
        "kind": "api-key",
        "managed-by": "secrets-layout",
        "rotation-adapter": "http-api-key",
        "rotation-create-url": "https://api.mail-provider.example/v3/api_keys",
        "rotation-verify-url": "https://api.mail-provider.example/v3/scopes",
        "rotation-response-key-field": "api_key",
        "rotation-response-key-id-field": "api_key_id",
    },
    "shared-services/monitoring/grafana-database": {
        "owner": "platform-team",
        "environment": "shared-services",
        "kind": "database",
        "managed-by": "secrets-layout",
    },
}


@pytest.mark.parametrize(("secret_name", "tags"), EXPECTED_TAGS.items())
def test_secret_tags(runs, secret_name, tags):
    simulation = run(runs, secret_name.split("/")[0])
    assert simulation.get(f"{secret_name}-secret").inputs["tags"] == tags


# secret -> (rotation rules, how the function is found)
EXPECTED_ROTATIONS = {
    "dev/database/credentials": ({"automaticallyAfterDays": 7}, "dev-rotation-rds-postgresql-single-user-44ccd9"),
    "dev/payments/stripe-api-key": ({"automaticallyAfterDays": 7}, "dev-rotation-api-key-rotator"),
    "staging/database/credentials": ({"scheduleExpression": "rate(30 days)", "duration": "2h"}, "staging-rotation-rds-postgresql-single-user-944c98"),
    "staging/payments/stripe-api-key": ({"automaticallyAfterDays": 30}, "staging-rotation-api-key-rotator"),
    "staging/crm/oauth-client-credentials": ({"scheduleExpression": "rate(30 days)"}, "staging-rotation-api-key-rotator"),
    "prod/database/credentials": ({"scheduleExpression": "rate(30 days)", "duration": "3h"}, "prod-rotation-rds-postgresql-single-user-39b3ee"),
    "prod/orders/mysql-credentials": ({"scheduleExpression": "cron(0 4 ? * SUN#1 *)", "duration": "4h"}, "prod-rotation-rds-mysql-single-user-40ea16"),
    "prod/payments/stripe-api-key": ({"automaticallyAfterDays": 30}, "prod-rotation-api-key-rotator"),
    "prod/notifications/sendgrid-api-key": ({"automaticallyAfterDays": 30}, "prod-rotation-api-key-rotator"),
    "prod/legacy/partner-token": ({"automaticallyAfterDays": 60}, "arn:aws:lambda:us-east-1:111111111111:function:partner-rotator"),
    "shared-services/ci/github-app-key": ({"automaticallyAfterDays": 60}, "arn:aws:lambda:us-east-1:111111111111:function:github-app-key-rotator"),
    "shared-services/monitoring/grafana-database": ({"automaticallyAfterDays": 60}, "shared-services-rotation-rds-mysql-single-user-5a1e5a"),
    "shared-services/monitoring/pagerduty-api-key": ({"automaticallyAfterDays": 60}, "shared-services-rotation-api-key-rotator"),
}


@pytest.mark.parametrize(("secret_name", "expected"), EXPECTED_ROTATIONS.items())
def test_rotation_rules_and_function(runs, secret_name, expected):
    rules, function = expected
    simulation = run(runs, secret_name.split("/")[0])
    rotation = simulation.get(f"{secret_name}-rotation")
    assert rotation.inputs["rotationRules"] == rules
    assert rotation.inputs["rotateImmediately"] is False
    assert rotation.inputs["secretId"] == simulation.get(f"{secret_name}-secret").outputs["arn"]
    if function.startswith("arn:"):
        assert rotation.inputs["rotationLambdaArn"] == function
        assert rotation.depends_on == ()
        return
    component = simulation.get(function)
    if component.type == MANAGED_ROTATION_APP:
        app = simulation.get(f"{function}-app")
        assert rotation.inputs["rotationLambdaArn"] == app.outputs["outputs"]["RotationLambdaARN"]
        assert app.urn in rotation.dependencies
    else:
        assert rotation.inputs["rotationLambdaArn"] == simulation.get(f"{function}-function").outputs["arn"]
        # Secrets Manager can invoke the function before the rotation is configured.
        assert simulation.get(f"{function}-permission").urn in rotation.depends_on


def test_a_secret_without_rotation_has_none(runs):
    simulation = run(runs, "dev")
    assert not [r for r in simulation.resources if r.name == "dev/tools/feature-flag-sdk-key-rotation"]


# app -> (managed engine, parameters without kmsKeyArn)
# excludeCharacters: the declared generate.exclude_characters ("\"@/\\"), or for a database
# without one the characters RDS rejects, sorted, without the space (rotation_settings.sar_exclude_characters).
PUNCTUATION_EXCLUDED = '"/@\\'
RDS_DEFAULT_EXCLUDED = "\"'/@"
EXPECTED_APPS = {
    "dev-rotation-rds-postgresql-single-user-44ccd9": (
        "rds-postgresql-single-user",
        {"functionName": "dev-rds-postgresql-single-user-44ccd9", "excludeCharacters": PUNCTUATION_EXCLUDED, "vpcSubnetIds": "subnet-0d1e2f3a", "vpcSecurityGroupIds": "sg-0d1e2f3a"},
    ),
    "staging-rotation-rds-postgresql-single-user-944c98": (
        "rds-postgresql-single-user",
        {"functionName": "staging-rds-postgresql-single-user-944c98", "excludeCharacters": PUNCTUATION_EXCLUDED, "vpcSubnetIds": "subnet-05a6b7c8", "vpcSecurityGroupIds": "sg-05a6b7c8"},
    ),
    "prod-rotation-rds-postgresql-single-user-39b3ee": (
        "rds-postgresql-single-user",
        {"functionName": "prod-rds-postgresql-single-user-39b3ee", "excludeCharacters": PUNCTUATION_EXCLUDED, "vpcSubnetIds": "subnet-0a1b2c3d", "vpcSecurityGroupIds": "sg-0a1b2c3d"},
    ),
    "prod-rotation-rds-mysql-single-user-40ea16": (
        "rds-mysql-single-user",
        {"functionName": "prod-rds-mysql-single-user-40ea16", "excludeCharacters": RDS_DEFAULT_EXCLUDED, "vpcSubnetIds": "subnet-0a1b2c3d", "vpcSecurityGroupIds": "sg-0f1e2d3c"},
    ),
    "shared-services-rotation-rds-mysql-single-user-5a1e5a": (
        "rds-mysql-single-user",
        {"functionName": "shared-services-rds-mysql-single-user-5a1e5a", "excludeCharacters": PUNCTUATION_EXCLUDED, "vpcSubnetIds": "subnet-0b2c3d4e", "vpcSecurityGroupIds": "sg-0b2c3d4e"},
    ),
}


@pytest.mark.parametrize(("app_name", "expected"), EXPECTED_APPS.items())
def test_serverless_application_per_engine(runs, app_name, expected):
    managed, parameters = expected
    stack = app_name.split("-rotation-")[0]
    simulation = run(runs, stack)
    app = simulation.get(f"{app_name}-app")
    application = ROTATION_APPLICATIONS[ManagedRotation(managed)]
    assert app.inputs["applicationId"] == (
        f"arn:aws:serverlessrepo:us-east-1:297356227824:applications/{application.name}"
    )
    assert app.inputs["semanticVersion"] == application.semantic_version
    assert app.inputs["capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]
    assert app.inputs["name"] == parameters["functionName"]
    assert app.inputs["parameters"] == {
        "endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
        **parameters,
        "kmsKeyArn": simulation.get(f"{stack}-kms-us-east-1-key").outputs["arn"],
    }


@pytest.mark.parametrize("stack", STACKS)
def test_bundled_function_role_permission_and_code(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    name = f"{stack}-rotation-api-key-rotator"
    function = simulation.get(f"{name}-function")
    role = simulation.get(f"{name}-role")
    assert function.inputs["name"] == f"{stack}-api-key-rotator"
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["handler"] == "handler.lambda_handler"
    assert function.inputs["role"] == role.outputs["arn"]
    assert function.inputs["environment"] == {
        "variables": {"SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
                      "ROTATION_ALLOWED_HOSTS": ALLOWED_HOSTS[stack]}
    }
    archive = function.inputs["code"]
    assert "handler.py" in archive.assets and not any(path.startswith("tests/") for path in archive.assets)
    assert policy_of(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    rotated = sorted(
        s.name for s in declaration.secrets if s.rotation and s.rotation.enabled and s.rotation.function
    )
    statements = policy_of(simulation.get(f"{name}-policy"))["Statement"]
    # The role may touch exactly the secrets whose rotation names this function, however many.
    assert statements[0]["Resource"] == "arn:aws:secretsmanager:us-east-1:111111111111:secret:*"
    assert statements[0]["Condition"] == {
        "ArnEquals": {"secretsmanager:resource/AllowRotationLambdaArn": function.outputs["arn"]}}
    rotating_here = sorted(
        rotation.name.removesuffix("-rotation")
        for rotation in simulation.by_type("aws:secretsmanager/secretRotation:SecretRotation")
        if rotation.inputs["rotationLambdaArn"] == function.outputs["arn"]
    )
    assert rotating_here == rotated
    permission = simulation.get(f"{name}-permission")
    assert permission.inputs == {
        "action": "lambda:InvokeFunction",
        "function": f"{stack}-api-key-rotator",
        "principal": "secretsmanager.amazonaws.com",
        "sourceAccount": "111111111111",
    }
    assert simulation.get(f"{name}-logs").inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )


# The hosts of the adapters' endpoints in environments/<stack>.yaml, sorted: the only hosts a
# rotation-*-url tag may name (rotation/README.md, ROTATION_ALLOWED_HOSTS).
ALLOWED_HOSTS = {
    "dev": "api.payments-provider.example",
    "staging": "api.payments-provider.example,auth.crm-provider.example",
    "prod": "api.mail-provider.example,api.payments-provider.example",
    "shared-services": "api.incident-provider.example",
}
PROTECTED = {"dev": False, "staging": False, "prod": True, "shared-services": True}


@pytest.mark.parametrize("stack", STACKS)
def test_protect(runs, stack):
    simulation = run(runs, stack)
    protected = PROTECTED[stack]
    for resource in simulation.resources:
        if resource.type in (SECRET, SECRET_VERSION, RANDOM_PASSWORD, KMS_KEY):
            assert resource.protect is protected, resource.name
        elif resource.type in (SECRET_POLICY, SECRET_ROTATION, KMS_ALIAS, SAR_STACK, FUNCTION, PARAMETER):
            assert not resource.protect, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_rotating_values_are_ignored_and_keep_a_label_of_their_own(runs, stack):
    simulation = run(runs, stack)
    for version in simulation.by_type(SECRET_VERSION):
        secret_name = version.name.removesuffix("-version")
        rotating = any(r.name == f"{secret_name}-rotation" for r in simulation.resources)
        assert rotating, "every versioned secret of the examples rotates"
        assert version.ignore_changes == ("secretString", "versionStages")
        assert version.inputs["versionStages"] == ["AWSCURRENT", INITIAL_VERSION_STAGE]
        assert version.inputs["secretId"] == simulation.get(f"{secret_name}-secret").outputs["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_values_are_secret_and_never_recorded_in_plain_form(runs, stack):
    simulation = run(runs, stack)
    for version in simulation.by_type(SECRET_VERSION):
        assert version.secret_inputs == frozenset({"secretString"})
        assert isinstance(version.outputs["secretString"], SecretValue)
        assert "secretString" in version.additional_secret_outputs
    for password in simulation.by_type(RANDOM_PASSWORD):
        assert isinstance(password.outputs["result"], SecretValue)
        assert "keepers" not in password.inputs, "no keepers: the password never changes by itself"
    assert simulation.secret_outputs == frozenset()
    text = recorded_text(simulation)
    for value in SECRET_CONFIG[stack].values():
        assert value not in text
    for password in simulation.by_type(RANDOM_PASSWORD):
        assert password.outputs["result"].reveal() not in text


def test_generated_json_value_is_the_template_plus_the_password(runs):
    simulation = run(runs, "prod")
    version = simulation.get("prod/database/credentials-version")
    password = simulation.get("prod/database/credentials-password")
    assert password.inputs == {"length": 32, "special": True, "overrideSpecial": "!#$%&*()-_=+[]{}<>:?"}
    assert json.loads(version.inputs["secretString"].reveal()) == {
        "username": "admin",
        "engine": "postgres",
        "host": "prod-db.internal",
        "port": 5432,
        "dbname": "production",
        "password": password.outputs["result"].reveal(),
    }
    config_version = simulation.get("prod/payments/stripe-api-key-version")
    assert config_version.inputs["secretString"].reveal() == SECRET_CONFIG["prod"]["stripeApiKey"]


@pytest.mark.parametrize("stack", STACKS)
def test_parameters_are_plain_strings(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    for parameter in declaration.parameters:
        created = simulation.get(f"{stack}-parameters-{parameter.name.lstrip('/')}")
        assert created.inputs["type"] == "String"
        assert created.inputs["name"] == parameter.name
        assert created.inputs["insecureValue"] == parameter.value
        assert created.secret_inputs == frozenset()
        assert created.inputs["tags"] == {"environment": stack, "managed-by": "secrets-layout"}
        assert urn_name(created.provider) == f"{stack}-aws-us-east-1"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_outputs(runs, stack):
    simulation = run(runs, stack)
    declaration = declared(stack)
    outputs = simulation.outputs
    assert set(outputs) == {"environment", "secrets", "secret_names", "kms_key_arns", "parameter_names"}
    assert outputs["environment"] == stack
    assert outputs["secret_names"] == [secret.name for secret in declaration.secrets]
    assert outputs["parameter_names"] == [parameter.name for parameter in declaration.parameters]
    assert outputs["kms_key_arns"] == {
        region: simulation.get(f"{stack}-kms-{region}-key").outputs["arn"] for region in declaration.regions
    }
    for secret in declaration.secrets:
        primary_arn = simulation.get(f"{secret.name}-secret").outputs["arn"]
        by_region = outputs["secrets"][secret.name]["arn_by_region"]
        replicas = secret.deployed_replica_regions
        assert list(sorted(by_region)) == sorted(["us-east-1", *replicas])
        assert by_region["us-east-1"] == primary_arn
        for region in replicas:
            assert by_region[region] == primary_arn.replace(":us-east-1:", f":{region}:")


def test_adopted_secret_keeps_its_arn_in_the_outputs(runs):
    simulation = run(runs, "prod")
    # While being adopted the secret has its live replicas (none): the declared ones come with the migration.
    assert simulation.outputs["secrets"]["prod/legacy/partner-token"]["arn_by_region"] == {
        "us-east-1": "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/legacy/partner-token-AbCdEf",
    }
