"""Policy documents: exact JSON for each case, without the Pulumi runtime."""

from __future__ import annotations

import pytest

from components.policy_documents import (
    ReaderGrant,
    consumer_read_policy,
    kms_key_policy,
    lambda_assume_role_policy,
    one_or_many,
    reader_account_ids,
    role_arn,
    rotation_function_policy,
    secret_arn_pattern,
    secret_policy_for,
    secret_resource_policy,
    statement_id,
)
from components_support import declaration

SECURITY = "111111111111"
APP = "222222222222"
DATA = "333333333333"


def deny_outside_accounts(accounts: str | list[str]) -> dict:
    return {
        "Sid": "DenyOutsideEnvironmentAccounts",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "secretsmanager:*",
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:PrincipalAccount": accounts},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }


DENY_OUTSIDE_ORGANIZATION = {
    "Sid": "DenyOutsideOrganization",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "secretsmanager:*",
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
}


@pytest.mark.parametrize(
    ("readers", "organization_id", "expected_statements"),
    [
        pytest.param(
            [ReaderGrant("prod-app", APP, ("ProductionAppRole",))],
            None,
            [
                {
                    "Sid": "ReadProdApp",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/ProductionAppRole"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}},
                },
                {
                    "Sid": "DescribeForReaders",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/ProductionAppRole"},
                    "Action": "secretsmanager:DescribeSecret",
                    "Resource": "*",
                },
                deny_outside_accounts(["111111111111", "222222222222", "333333333333"]),
            ],
            id="one reader, no organization",
        ),
        pytest.param(
            [
                ReaderGrant("prod-app", APP, ("ProductionAppRole",)),
                ReaderGrant("prod-data", DATA, ("ReportingRole", "EtlRole"), ("AWSCURRENT", "AWSPREVIOUS")),
            ],
            "o-a1b2c3d4e5",
            [
                {
                    "Sid": "ReadProdApp",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/ProductionAppRole"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}},
                },
                {
                    "Sid": "ReadProdData",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["arn:aws:iam::333333333333:role/EtlRole", "arn:aws:iam::333333333333:role/ReportingRole"]
                    },
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"]}},
                },
                {
                    "Sid": "DescribeForReaders",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": [
                            "arn:aws:iam::222222222222:role/ProductionAppRole",
                            "arn:aws:iam::333333333333:role/EtlRole",
                            "arn:aws:iam::333333333333:role/ReportingRole",
                        ]
                    },
                    "Action": "secretsmanager:DescribeSecret",
                    "Resource": "*",
                },
                DENY_OUTSIDE_ORGANIZATION,
                deny_outside_accounts(["111111111111", "222222222222", "333333333333"]),
            ],
            id="two readers, stages, organization",
        ),
        pytest.param(
            [],
            "o-a1b2c3d4e5",
            [DENY_OUTSIDE_ORGANIZATION, deny_outside_accounts(["111111111111", "222222222222", "333333333333"])],
            id="no readers: only the denies",
        ),
        pytest.param(
            [
                ReaderGrant("prod-app", APP, ("team/AppRole",)),
                ReaderGrant("prod-app", APP, ("BatchRole",), ("AWSPREVIOUS",)),
            ],
            None,
            [
                {
                    "Sid": "ReadProdApp",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/team/AppRole"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}},
                },
                {
                    "Sid": "ReadProdApp2",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:role/BatchRole"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}},
                },
                {
                    "Sid": "DescribeForReaders",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["arn:aws:iam::222222222222:role/BatchRole", "arn:aws:iam::222222222222:role/team/AppRole"]
                    },
                    "Action": "secretsmanager:DescribeSecret",
                    "Resource": "*",
                },
                deny_outside_accounts(["111111111111", "222222222222", "333333333333"]),
            ],
            id="same account twice: unique Sids, role paths",
        ),
    ],
)
def test_secret_resource_policy(readers, organization_id, expected_statements):
    policy = secret_resource_policy(
        readers=readers,
        security_account=SECURITY,
        environment_account_ids=[DATA, APP],
        organization_id=organization_id,
    )
    assert policy == {"Version": "2012-10-17", "Statement": expected_statements}


def test_version_stage_never_conditions_describe_secret():
    """VersionStage exists only on GetSecretValue requests: a DescribeSecret statement with it would deny."""
    policy = secret_resource_policy(
        readers=[ReaderGrant("a", APP, ("R",))], security_account=SECURITY, environment_account_ids=[APP]
    )
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow" and "Condition" in statement:
            assert statement["Action"] == "secretsmanager:GetSecretValue"
        if statement["Action"] == "secretsmanager:DescribeSecret":
            assert "Condition" not in statement


def test_each_deny_is_its_own_statement_so_they_combine_as_or():
    policy = secret_resource_policy(
        readers=[], security_account=SECURITY, environment_account_ids=[APP], organization_id="o-a1b2c3d4e5"
    )
    denies = [statement for statement in policy["Statement"] if statement["Effect"] == "Deny"]
    assert [list(deny["Condition"]["StringNotEquals"]) for deny in denies] == [
        ["aws:PrincipalOrgID"],
        ["aws:PrincipalAccount"],
    ]
    assert all(deny["Principal"] == "*" for deny in denies)
    # The security account itself is never denied: its admins, the deployment, rotation functions.
    assert denies[1]["Condition"]["StringNotEquals"]["aws:PrincipalAccount"] == [SECURITY, APP]


def test_security_account_alone_is_a_single_value():
    policy = secret_resource_policy(readers=[], security_account=SECURITY, environment_account_ids=[SECURITY])
    assert policy["Statement"] == [deny_outside_accounts(SECURITY)]


def test_secret_policy_for_a_declared_secret():
    declared = declaration(
        organization_id="o-a1b2c3d4e5",
        accounts={"app": APP, "data": {"id": DATA}},
        secrets=[
            {
                "name": "test/db/credentials",
                "value": {"external": True},
                "readers": [{"account": "data", "roles": ["EtlRole"], "stages": ["AWSCURRENT"]}],
            }
        ],
    )
    policy = secret_policy_for(declared, declared.secrets[0])
    assert [statement["Sid"] for statement in policy["Statement"]] == [
        "ReadData",
        "DescribeForReaders",
        "DenyOutsideOrganization",
        "DenyOutsideEnvironmentAccounts",
    ]
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::333333333333:role/EtlRole"}
    assert reader_account_ids(declared) == [DATA]


@pytest.mark.parametrize(
    ("region", "readers", "expected"),
    [
        pytest.param(
            "us-east-1",
            [APP],
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SecurityAccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "ReaderAccountsDecryptViaSecretsManager",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                        "Action": ["kms:Decrypt", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                "kms:CallerAccount": "222222222222",
                            }
                        },
                    },
                ],
            },
            id="one reader account",
        ),
        pytest.param(
            "eu-west-1",
            [DATA, APP, DATA],
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SecurityAccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "ReaderAccountsDecryptViaSecretsManager",
                        "Effect": "Allow",
                        "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]},
                        "Action": ["kms:Decrypt", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
                                "kms:CallerAccount": ["222222222222", "333333333333"],
                            }
                        },
                    },
                ],
            },
            id="replica region, two accounts",
        ),
        pytest.param(
            "us-west-2",
            [],
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SecurityAccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
            id="no readers: administration only",
        ),
    ],
)
def test_kms_key_policy(region, readers, expected):
    assert kms_key_policy(region=region, security_account=SECURITY, reader_account_ids=readers) == expected


@pytest.mark.parametrize(
    ("secrets", "key_arns", "expected_resources", "expected_keys"),
    [
        pytest.param(
            {"prod/db/credentials": ["us-east-1"]},
            ["arn:aws:kms:us-east-1:111111111111:key/k1"],
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db/credentials-??????",
            "arn:aws:kms:us-east-1:111111111111:key/k1",
            id="one secret, one region",
        ),
        pytest.param(
            {"prod/db/credentials": ["us-east-1", "us-west-2"], "prod/api/key": ["us-east-1"]},
            ["arn:aws:kms:us-west-2:111111111111:key/k2", "arn:aws:kms:us-east-1:111111111111:key/k1"],
            [
                "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/api/key-??????",
                "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db/credentials-??????",
                "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/db/credentials-??????",
            ],
            ["arn:aws:kms:us-east-1:111111111111:key/k1", "arn:aws:kms:us-west-2:111111111111:key/k2"],
            id="replicas are readable where they are",
        ),
    ],
)
def test_consumer_read_policy(secrets, key_arns, expected_resources, expected_keys):
    assert consumer_read_policy(secrets=secrets, security_account=SECURITY, kms_key_arns=key_arns) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                "Resource": expected_resources,
            },
            {
                "Sid": "DecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": expected_keys,
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
            },
        ],
    }


def test_rotation_function_policy_covers_exactly_the_secrets_it_rotates():
    assert rotation_function_policy(
        function_name="prod-api-key-rotator",
        region="us-east-1",
        security_account=SECURITY,
        kms_key_arns=["arn:aws:kms:us-east-1:111111111111:key/k1"],
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RotateItsSecrets",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                "Resource": "arn:aws:secretsmanager:us-east-1:111111111111:secret:*",
                "Condition": {"ArnEquals": {"secretsmanager:resource/AllowRotationLambdaArn":
                              "arn:aws:lambda:us-east-1:111111111111:function:prod-api-key-rotator"}},
            },
            {
                "Sid": "GenerateRandomValues",
                "Effect": "Allow",
                "Action": "secretsmanager:GetRandomPassword",
                "Resource": "*",
            },
            {
                "Sid": "UseKeysViaSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "arn:aws:kms:us-east-1:111111111111:key/k1",
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
            },
        ],
    }


def test_lambda_assume_role_policy():
    assert lambda_assume_role_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["a"], "a"), (["b", "a", "b"], ["a", "b"]), (("x", "x"), "x")],
)
def test_one_or_many(values, expected):
    assert one_or_many(values) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [(("Read", "prod-app"), "ReadProdApp"), (("Read", "shared-ci"), "ReadSharedCi"), (("a b", "c_d.e"), "ABCDE")],
)
def test_statement_id(words, expected):
    assert statement_id(*words) == expected


@pytest.mark.parametrize(
    ("account", "role", "expected"),
    [
        ("222222222222", "AppRole", "arn:aws:iam::222222222222:role/AppRole"),
        ("222222222222", "team/AppRole", "arn:aws:iam::222222222222:role/team/AppRole"),
    ],
)
def test_role_arn(account, role, expected):
    assert role_arn(account, role) == expected


def test_secret_arn_pattern_matches_names_not_neighbours():
    pattern = secret_arn_pattern(region="us-east-1", account_id=SECURITY, secret_name="prod/db")
    assert pattern == "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-??????"
