"""The components one by one, as another team's program would use them."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from secrets_layout.components import (
    BundledRotationFunction,
    BundledRotationFunctionArgs,
    ManagedRotationApp,
    ManagedRotationAppArgs,
    ManagedSecret,
    ManagedSecretArgs,
    ParameterSet,
    ParameterSetArgs,
    RegionalKey,
    RegionalKeyArgs,
    regional_providers,
)
from secrets_layout.components.policy_documents import kms_key_policy, replica_keys_policy
from secrets_layout.components.rotation import ROTATION_CODE_DIRECTORY, rotation_code_files
from components_support import (
    KMS_ALIAS,
    KMS_KEY,
    PARAMETER,
    ROLE_POLICY,
    SECRET,
    SECRET_POLICY,
    SECRET_VERSION,
    policy_of,
    run_components,
    tree,
    urn_name,
)
from secrets_layout.declaration.models import ManagedRotation, Parameter, Secret
from secrets_layout.engine.recorded_values import SecretValue

ACCOUNT = "111111111111"
POLICY = {"Version": "2012-10-17", "Statement": []}
ROTATOR = "arn:aws:lambda:us-east-1:111111111111:function:rotator"


def test_regional_key():
    def program() -> None:
        providers = regional_providers("team-aws", regions=["eu-west-1"], account_id=ACCOUNT)
        RegionalKey(
            "team-key",
            RegionalKeyArgs(
                environment="team",
                region="eu-west-1",
                security_account=ACCOUNT,
                reader_roles=[("222222222222", "AppRole")],
                provider=providers["eu-west-1"],
                protect=True,
                tags={"owner": "team"},
            ),
        )

    run = run_components(program)
    assert tree(run) == {
        ("pulumi:providers:aws", "team-aws-eu-west-1", "secrets-layout-test"),
        ("secrets-layout:kms:RegionalKey", "team-key", "secrets-layout-test"),
        (KMS_KEY, "team-key-key", "team-key"),
        (KMS_ALIAS, "team-key-alias", "team-key"),
    }
    key = run.get("team-key-key")
    assert key.protect is True and run.get("team-key-alias").protect is None
    assert policy_of(key) == kms_key_policy(
        region="eu-west-1", security_account=ACCOUNT, reader_roles=[("222222222222", "AppRole")]
    )
    assert key.inputs["tags"] == {"owner": "team", "environment": "team", "managed-by": "secrets-layout"}
    assert key.outputs["arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    assert run.get("team-key-alias").inputs["name"] == "alias/secrets/team"


def managed_secret(secret: dict, **args) -> pulumi.Output:
    declared = Secret.model_validate(secret)
    providers = regional_providers("aws", regions=["us-east-1"], account_id=ACCOUNT)
    return ManagedSecret(
        "payments-token",
        ManagedSecretArgs(
            secret=declared,
            environment="team",
            primary_region="us-east-1",
            providers=providers,
            kms_key_arns={"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k"},
            resource_policy=POLICY,
            **args,
        ),
    )


def test_managed_secret_standalone_with_a_generated_plaintext_value():
    def program() -> None:
        secret = managed_secret({"name": "team/payments/token", "kind": "api-key", "value": {"generate": {"length": 48}}})
        pulumi.export("arn_by_region", secret.arn_by_region)

    run = run_components(program)
    assert {(t, n, p) for t, n, p in tree(run) if p == "payments-token"} == {
        (SECRET, "payments-token-secret", "payments-token"),
        ("random:index/randomPassword:RandomPassword", "payments-token-password", "payments-token"),
        (SECRET_VERSION, "payments-token-version", "payments-token"),
        (SECRET_POLICY, "payments-token-policy", "payments-token"),
    }
    version = run.get("payments-token-version")
    password = run.get("payments-token-password").outputs["result"]
    assert version.inputs["secretString"] == SecretValue(password.reveal()), "plaintext: the password itself"
    assert len(password.reveal()) == 48
    assert run.get("payments-token-secret").inputs["name"] == "team/payments/token"
    assert run.outputs["arn_by_region"] == {"us-east-1": run.get("payments-token-secret").outputs["arn"]}


def test_managed_secret_reads_config_from_the_given_namespace():
    def program() -> None:
        managed_secret(
            {"name": "team/payments/token", "kind": "api-key", "value": {"from_config": "token"}},
            config=pulumi.Config("payments"),
        )

    run = run_components(program, secret_config={"payments:token": "from-payments-namespace"})
    assert run.get("payments-token-version").inputs["secretString"] == SecretValue("from-payments-namespace")


def test_managed_secret_with_external_value_and_existing_function():
    def program() -> None:
        managed_secret(
            {
                "name": "team/partner/token",
                "kind": "oauth-token",
                "value": {"external": True},
                "rotation": {"lambda_arn": ROTATOR, "schedule": "rate(12 hours)"},
            },
            rotation_lambda_arn=ROTATOR,
        )

    run = run_components(program)
    assert [r for r in run.resources if r.type == SECRET_VERSION] == []
    rotation = run.get("payments-token-rotation")
    assert rotation.inputs["rotationLambdaArn"] == ROTATOR
    assert rotation.inputs["rotationRules"] == {"scheduleExpression": "rate(12 hours)"}


def test_a_rotation_function_without_a_declared_rotation_is_a_mistake():
    def program() -> None:
        managed_secret(
            {"name": "team/partner/token", "value": {"external": True}, "rotation": {"enabled": False, "reason": "no"}},
            rotation_lambda_arn=ROTATOR,
        )

    with pytest.raises(ValueError, match="declares no enabled rotation"):
        run_components(program)


def test_rotation_code_leaves_out_tests_and_caches(tmp_path: Path):
    for relative in [
        "handler.py",
        "adapters/http.py",
        "tests/test_handler.py",
        "test_local.py",
        "conftest.py",
        "__pycache__/handler.cpython-311.py",
        "README.md",
    ]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("# code\n")
    assert sorted(rotation_code_files(tmp_path)) == ["adapters/http.py", "handler.py"]
    assert rotation_code_files(tmp_path / "missing") == {}
    assert "handler.py" in rotation_code_files(ROTATION_CODE_DIRECTORY)


def test_bundled_function_with_its_own_code(tmp_path: Path):
    (tmp_path / "handler.py").write_text("def lambda_handler(event, context):\n    pass\n")

    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        BundledRotationFunction(
            "rotator",
            BundledRotationFunctionArgs(
                function_name="team-rotator",
                region="eu-west-1",
                security_account=ACCOUNT,
                kms_key_arns={"eu-west-1": "arn:aws:kms:eu-west-1:111111111111:key/k"},
                provider=provider,
                code_directory=tmp_path,
            ),
        )

    run = run_components(program)
    function = run.get("rotator-function")
    assert sorted(function.inputs["code"].assets) == ["handler.py"]
    assert function.inputs["environment"]["variables"]["SECRETS_MANAGER_ENDPOINT"] == (
        "https://secretsmanager.eu-west-1.amazonaws.com"
    )
    assert run.get("rotator-role").inputs["path"] == "/secrets-layout/"
    assert run.get("rotator-permission").inputs["sourceAccount"] == ACCOUNT


def test_managed_rotation_app_without_a_customer_key():
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        app = ManagedRotationApp(
            "pg",
            ManagedRotationAppArgs(
                managed=ManagedRotation.RDS_POSTGRESQL_SINGLE_USER,
                region="us-east-1",
                function_name="team-pg",
                provider=provider,
            ),
        )
        pulumi.export("function_arn", app.function_arn)

    run = run_components(program)
    assert run.get("pg-app").inputs["parameters"] == {
        "endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
        "functionName": "team-pg",
    }
    assert run.outputs["function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:team-pg"


@pytest.mark.parametrize(
    ("keys", "replica_policy"),
    [
        pytest.param({"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1"}, False, id="no replicas: nothing added"),
        pytest.param(
            {"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1", "eu-west-1": "arn:aws:kms:eu-west-1:111111111111:key/k2"},
            True,
            id="replicas: their keys on the app's own role",
        ),
    ],
)
def test_managed_rotation_app_may_reencrypt_the_replicas(keys, replica_policy):
    """Finding 5: the AWS rotation app's template takes one kmsKeyArn (the primary's); the role it
    creates gets the replicas' keys from an inline policy of ours, found through the function."""

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        ManagedRotationApp(
            "pg",
            ManagedRotationAppArgs(
                managed=ManagedRotation.RDS_POSTGRESQL_SINGLE_USER,
                region="us-east-1",
                function_name="team-pg",
                provider=provider,
                kms_key_arn=keys["us-east-1"],
                kms_key_arns=keys,
                security_account=ACCOUNT,
            ),
        )

    run = run_components(program)
    policies = run.by_type(ROLE_POLICY)
    assert [policy.name for policy in policies] == (["pg-replica-keys"] if replica_policy else [])
    if replica_policy:
        (policy,) = policies
        assert urn_name(policy.parent) == "pg"
        # The simulation's getFunction names the role "<function>-role" (CloudFormation generates one).
        assert policy.inputs["role"] == "team-pg-role"
        assert policy_of(policy) == replica_keys_policy(
            primary_region="us-east-1", security_account=ACCOUNT, kms_key_arns=keys
        )


def test_multi_user_app_needs_its_master_secret():
    def program() -> None:
        ManagedRotationApp(
            "pg",
            ManagedRotationAppArgs(
                managed=ManagedRotation.RDS_POSTGRESQL_MULTI_USER,
                region="us-east-1",
                function_name="team-pg",
                provider=aws.Provider("aws", region="us-east-1"),
            ),
        )

    with pytest.raises(ValueError, match="master secret"):
        run_components(program)


def test_parameter_set():
    def program() -> None:
        ParameterSet(
            "team-parameters",
            ParameterSetArgs(
                environment="team",
                parameters=[Parameter(name="/team/a/level", value="info", description="Level", tags={"owner": "a"})],
                provider=aws.Provider("aws", region="us-east-1"),
            ),
        )

    run = run_components(program)
    parameter = run.get("team-parameters-team/a/level")
    assert parameter.type == PARAMETER and urn_name(parameter.parent) == "team-parameters"
    assert parameter.inputs == {
        "name": "/team/a/level",
        "type": "String",
        "insecureValue": "info",
        "description": "Level",
        "tags": {"owner": "a", "environment": "team", "managed-by": "secrets-layout"},
    }
