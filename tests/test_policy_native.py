"""A stack written with the aws-native provider is judged by the same policies (issue 20).

The resources are registered by the real pulumi-aws-native SDK (its Python classes serialize the
inputs: ``replicaRegions``, ``tags`` as a list of ``{key, value}``, ``keyPolicy`` and
``resourcePolicy`` as objects), recorded on the SDK's mock engine by ``preview --program`` and sent to
the pack over the analyzer protocol, in a dry run and a deployment, as every preview does. The CLI is
run as a user runs it.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from cli_support import ROOT, run_main

pytestmark = pytest.mark.slow

OWN, APP, ORG = "111111111111", "222222222222", "o-a1b2c3d4e5"

PROGRAM = textwrap.dedent('''\
    import json

    import pulumi
    import pulumi_aws_native as native

    BAD = {bad}
    east = native.Provider("native-east", region="us-east-1")
    on_east = pulumi.ResourceOptions(provider=east)

    def statement(**fields):
        return {{"Effect": "Allow", "Resource": "*", **fields}}

    limited = {{"StringEquals": {{"kms:CallerAccount": "{own}"}}}}
    key = native.kms.Key(
        "secrets-key",
        enable_key_rotation=not BAD,
        key_policy={{"Version": "2012-10-17", "Statement": [
            statement(Sid="Admin", Principal={{"AWS": "arn:aws:iam::{own}:root"}}, Action="kms:*"),
            statement(Sid="Use", Principal="*", Action="kms:Decrypt",
                      **({{"Condition": {{"Bool": {{"aws:SecureTransport": "true"}}}}}} if BAD else {{"Condition": limited}})),
        ]}},
        opts=on_east)
    secret = native.secretsmanager.Secret(
        "orders-db",
        name="orders-db" if BAD else "prod/orders/db",
        # A literal ARN: the fake cloud has no rule for aws-native keys, so key.arn would be a generic fake
        # ARN of the kms service (engine/fake_cloud.py, `_fallbacks`).
        kms_key_id="alias/aws/secretsmanager" if BAD else "arn:aws:kms:us-east-1:{own}:key/1111",
        replica_regions=[native.secretsmanager.SecretReplicaRegionArgs(
            region="us-west-2", kms_key_id=None if BAD else "arn:aws:kms:us-west-2:{own}:key/0000")],
        tags=[{{"key": "environment", "value": "prod"}}] + ([] if BAD else [{{"key": "owner", "value": "team"}}]),
        opts=pulumi.ResourceOptions(provider=east, protect=not BAD))
    if not BAD:
        native.secretsmanager.RotationSchedule(
            "orders-db-rotation", secret_id=secret.id,
            rotation_lambda_arn="arn:aws:lambda:us-east-1:{own}:function:rotator",
            rotation_rules=native.secretsmanager.RotationScheduleRotationRulesArgs(automatically_after_days=30),
            opts=on_east)
    readers = statement(Principal={{"AWS": "arn:aws:iam::{app}:root"}}, Action="secretsmanager:GetSecretValue",
                        Condition={{"ArnEquals": {{"aws:PrincipalArn": "arn:aws:iam::{app}:role/App"}}}})
    outside = {{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
                "Condition": {{"StringNotEquals": {{"aws:PrincipalOrgID": "{org}"}}}}}}
    public = statement(Principal="*", Action="secretsmanager:GetSecretValue")
    native.secretsmanager.ResourcePolicy(
        "orders-db-policy", secret_id=secret.id, block_public_policy=not BAD,
        resource_policy={{"Version": "2012-10-17", "Statement": [public] if BAD else [readers, outside]}},
        opts=on_east)
''')


def preview(tmp_path, *, bad):
    program = tmp_path / "native.py"
    program.write_text(PROGRAM.format(bad=bad, own=OWN, app=APP, org=ORG))
    result = run_main("preview", str(ROOT / "environments" / "prod.yaml"), "--program", str(program),
                      "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return [v for v in report["violations"] if "aws-native:" in v["urn"]], result.returncode


def test_a_compliant_aws_native_stack_has_no_violation(tmp_path):
    violations, _ = preview(tmp_path, bad=False)
    assert violations == []


def test_every_rule_judges_an_aws_native_stack(tmp_path):
    violations, returncode = preview(tmp_path, bad=True)
    assert returncode == 1
    found = sorted((v["policy"], v["urn"].rsplit("::", 1)[1]) for v in violations)
    assert found == sorted([
        ("kms-key-policy-no-public-access", "secrets-key"),
        ("kms-key-rotation-enabled", "secrets-key"),
        ("secret-customer-managed-key", "orders-db"),
        ("secret-name-convention", "orders-db"),
        ("secret-policy-deny-outside", "orders-db-policy"),
        ("secret-policy-no-public-access", "orders-db-policy"),   # block_public_policy
        ("secret-policy-no-public-access", "orders-db-policy"),   # the public statement
        ("secret-protected", "orders-db"),
        ("secret-replica-customer-managed-key", "orders-db"),
        ("secret-required-tags", "orders-db"),
        ("secret-rotation-required", "orders-db"),
    ])
    messages = {v["policy"]: v["message"] for v in violations}
    # in the names the aws-native program was written with
    assert messages["secret-replica-customer-managed-key"].startswith(
        "Replica 0 (us-west-2) has no kms_key_id, so AWS encrypts the replica with the AWS managed key")
    assert "Set replica_regions[0].kms_key_id to a customer managed key" in messages["secret-replica-customer-managed-key"]
    assert messages["secret-rotation-required"].startswith('Secret "orders-db" has no RotationSchedule.')
    assert "aws_native.secretsmanager.RotationSchedule" in messages["secret-rotation-required"]
    assert messages["secret-required-tags"].startswith("The secret is missing the required tag owner.")
