"""SecretsLayout on the mock engine for declarations the examples do not cover."""

from __future__ import annotations

import json

import pytest

from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.components.policy_documents import consumer_read_policy
from components_support import (
    CONSUMER_GRANTS,
    PROVIDER,
    REGIONAL_KEY,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SAR_STACK,
    SECRET_ROTATION,
    SECRET_VERSION,
    declaration,
    names_of,
    policy_of,
    run_components,
    urn_name,
)

EXISTING_WEST_KEY = "arn:aws:kms:us-west-2:111111111111:key/existing-west"
MASTER = "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/db/master-AbCdEf"
VPC = {"subnet_ids": ["subnet-0a1b2c3d"], "security_group_ids": ["sg-0a1b2c3d"]}


def layout_of(declared, **kwargs):
    return run_components(lambda: SecretsLayout("test", SecretsLayoutArgs(declaration=declared)), **kwargs)


def test_existing_keys_are_used_instead_of_new_ones():
    declared = declaration(
        kms={"keys": {"us-west-2": EXISTING_WEST_KEY}},
        secrets=[
            {
                "name": "test/app/token",
                "kind": "api-key",
                "value": {"generate": {"length": 40}},
                "replicas": ["us-west-2"],
                "rotation": {"function": "api-key-rotator", "every_days": 30},
            }
        ],
    )
    run = layout_of(declared)
    assert names_of(run.by_type(REGIONAL_KEY)) == ["test-kms-us-east-1"]
    east_key = run.get("test-kms-us-east-1-key").outputs["arn"]
    secret = run.get("test/app/token-secret")
    assert secret.inputs["kmsKeyId"] == east_key
    assert secret.inputs["replicas"] == [{"region": "us-west-2", "kmsKeyId": EXISTING_WEST_KEY}]
    assert run.get("test").type == "secrets-layout:layout:SecretsLayout"
    primary_key, replica_keys = policy_of(run.get("test-rotation-api-key-rotator-policy"))["Statement"][2:]
    assert (primary_key["Resource"], replica_keys["Resource"]) == (east_key, EXISTING_WEST_KEY)
    # Both regions still get their explicit provider.
    assert names_of(run.by_type(PROVIDER)) == ["test-aws-us-east-1", "test-aws-us-west-2"]


def test_consumer_grants_through_an_assumed_role():
    declared = declaration(
        accounts={
            "app": {"id": "222222222222", "deploy_role_arn": "arn:aws:iam::222222222222:role/SecretsLayoutDeploy"},
            "data": "333333333333",
        },
        secrets=[
            {
                "name": "test/db/credentials",
                "kind": "database",
                "value": {"external": True},
                "replicas": ["eu-west-1"],
                "readers": [
                    {"account": "app", "roles": ["AppRole", "team/BatchRole"]},
                    {"account": "data", "roles": ["EtlRole"]},
                ],
            },
            {
                "name": "test/api/key",
                "kind": "api-key",
                "value": {"external": True},
                "readers": [{"account": "app", "roles": ["AppRole"]}],
            },
        ],
    )
    run = layout_of(declared)
    grants = run.by_type(CONSUMER_GRANTS)
    assert names_of(grants) == ["test-consumer-app"], "only accounts with a deploy role"
    provider = run.get("test-consumer-app-provider")
    assert provider.type == PROVIDER and urn_name(provider.parent) == "test-consumer-app"
    assert json.loads(provider.inputs["assumeRoles"]) == [
        {"roleArn": "arn:aws:iam::222222222222:role/SecretsLayoutDeploy", "sessionName": "secrets-layout-test"}
    ]
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["222222222222"]
    app_role = run.get("test-consumer-app-AppRole")
    batch_role = run.get("test-consumer-app-team-BatchRole")
    assert app_role.provider == provider.urn and batch_role.provider == provider.urn
    assert app_role.inputs["role"] == "AppRole" and batch_role.inputs["role"] == "BatchRole"
    assert app_role.inputs["name"] == "secrets-layout-test-read"
    # The printed consumer policy's document (tests/test_consumer_policy.py compares the two):
    # the created keys by region, which is all a policy written before the deployment can name.
    assert policy_of(app_role) == consumer_read_policy(
        secrets={"test/db/credentials": ["us-east-1", "eu-west-1"], "test/api/key": ["us-east-1"]},
        security_account="111111111111",
        kms_key_arns=["arn:aws:kms:us-east-1:111111111111:key/*", "arn:aws:kms:eu-west-1:111111111111:key/*"],
    )
    assert policy_of(batch_role)["Statement"][0]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:test/db/credentials-??????",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/db/credentials-??????",
    ]
    assert len(run.by_type(ROLE_POLICY)) == 2


def test_multi_user_rotation_passes_the_master_secret():
    declared = declaration(
        secrets=[
            {
                "name": "test/db/app-user",
                "kind": "database",
                "value": {
                    "generate": {"key": "password"},
                    "template": {"username": "app", "engine": "mysql", "host": "db", "masterarn": MASTER},
                },
                "rotation": {"managed": "rds-mysql-multi-user", "vpc": VPC, "every_days": 14},
            }
        ]
    )
    run = layout_of(declared)
    (app,) = run.by_type(SAR_STACK)
    assert app.inputs["applicationId"].endswith("/SecretsManagerRDSMySQLRotationMultiUser")
    assert app.inputs["parameters"]["masterSecretArn"] == MASTER
    assert json.loads(run.get("test/db/app-user-version").inputs["secretString"].reveal())["masterarn"] == MASTER


def test_multi_user_rotation_without_master_secret_fails_before_deploying():
    declared = declaration(
        secrets=[
            {
                "name": "test/db/app-user",
                "kind": "database",
                "value": {"generate": {"key": "password"}, "template": {"username": "app"}},
                "rotation": {"managed": "documentdb-multi-user"},
            }
        ]
    )
    with pytest.raises(ValueError, match="masterarn"):
        layout_of(declared)


def test_rotation_without_a_function_deploys_no_rotation_and_ignores_nothing():
    declared = declaration(
        secrets=[{"name": "test/app/token", "kind": "generic", "value": {"generate": {}}, "rotation": {"every_days": 30}}]
    )
    run = layout_of(declared)
    assert run.by_type(SECRET_ROTATION) == []
    (version,) = run.by_type(SECRET_VERSION)
    assert version.ignore_changes == () and "versionStages" not in version.inputs


def test_bundled_function_in_a_vpc():
    declared = declaration(
        secrets=[
            {
                "name": "test/app/token",
                "kind": "api-key",
                "value": {"external": True},
                "rotation": {"function": "api-key-rotator", "vpc": VPC, "every_days": 30},
            }
        ]
    )
    run = layout_of(declared)
    (component,) = [r for r in run.resources if r.type == "secrets-layout:rotation:BundledRotationFunction"]
    name = component.name
    assert name.startswith("test-rotation-api-key-rotator-") and len(name) == len("test-rotation-api-key-rotator-") + 6
    function = run.get(f"{name}-function")
    assert function.inputs["vpcConfig"] == {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]}
    attachments = {r.name: r.inputs["policyArn"] for r in run.by_type(ROLE_POLICY_ATTACHMENT)}
    assert attachments == {
        f"{name}-logs": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        f"{name}-vpc-access": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    }
    # The role's permissions exist before the function can be invoked.
    assert {run.get(f"{name}-policy").urn, run.get(f"{name}-logs").urn} <= set(function.depends_on)


@pytest.mark.parametrize(
    ("environment", "defaults_protect", "secret_protect", "expected", "keys_expected"),
    [
        ("prod", None, None, True, True),
        ("prod", None, False, False, True),
        ("qa", None, None, True, True),  # no name leaves a layout unprotected: defaults.protect is true when omitted
        ("production", False, None, False, False),
        ("prod", False, None, False, False),
        ("qa", False, True, True, False),
    ],
)
def test_protect_follows_the_declaration(environment, defaults_protect, secret_protect, expected, keys_expected):
    secret = {"name": f"{environment}/app/token", "value": {"generate": {}}, "protect": secret_protect}
    defaults = {} if defaults_protect is None else {"defaults": {"protect": defaults_protect}}
    declared = declaration(environment=environment, secrets=[secret], **defaults)
    run = run_components(lambda: SecretsLayout(environment, SecretsLayoutArgs(declaration=declared)))
    for suffix in ("secret", "password", "version"):
        assert run.get(f"{environment}/app/token-{suffix}").protect is expected
    assert not run.get(f"{environment}/app/token-policy").protect
    assert run.get(f"{environment}-kms-us-east-1-key").protect is keys_expected


def test_nobody_reads_nothing_is_shared():
    declared = declaration(secrets=[{"name": "test/app/token", "value": {"external": True}}])
    run = layout_of(declared)
    key_policy = policy_of(run.get("test-kms-us-east-1-key"))
    assert [statement["Sid"] for statement in key_policy["Statement"]] == ["SecurityAccountAdministers"]
    secret_policy = policy_of(run.get("test/app/token-policy"))
    assert [statement["Effect"] for statement in secret_policy["Statement"]] == ["Deny"]
    assert run.by_type(SECRET_VERSION) == []
