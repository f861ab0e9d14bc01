"""Policy documents: exact JSON for each case, without the Pulumi runtime."""

from __future__ import annotations

import pytest

from secrets_layout.components.policy_documents import (
    ReaderGrant,
    consumer_read_policy,
    kms_key_policy,
    lambda_assume_role_policy,
    one_or_many,
    reader_account_ids,
    reader_roles,
    replica_keys_policy,
    role_arn,
    rotation_function_policy,
    secret_arn_pattern,
    secret_policy_for,
    secret_resource_policy,
    stage_condition,
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
        "StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:PrincipalAccount": "111111111111"},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
}


def read(sid: str, accounts, roles, condition: dict) -> dict:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": accounts},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": roles}, **condition},
    }


def describe(accounts, roles) -> dict:
    return {
        "Sid": "DescribeForReaders",
        "Effect": "Allow",
        "Principal": {"AWS": accounts},
        "Action": "secretsmanager:DescribeSecret",
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": roles}},
    }


CURRENT = {"StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}}


@pytest.mark.parametrize(
    ("readers", "organization_id", "expected_statements"),
    [
        pytest.param(
            [ReaderGrant("prod-app", APP, ("ProductionAppRole",))],
            None,
            [
                read("ReadProdApp", "arn:aws:iam::222222222222:root",
                     "arn:aws:iam::222222222222:role/ProductionAppRole", CURRENT),
                describe("arn:aws:iam::222222222222:root", "arn:aws:iam::222222222222:role/ProductionAppRole"),
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
                read("ReadProdApp", "arn:aws:iam::222222222222:root",
                     "arn:aws:iam::222222222222:role/ProductionAppRole", CURRENT),
                read(
                    "ReadProdData",
                    "arn:aws:iam::333333333333:root",
                    ["arn:aws:iam::333333333333:role/EtlRole", "arn:aws:iam::333333333333:role/ReportingRole"],
                    {"StringEqualsIfExists": {"secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"]}},
                ),
                describe(
                    ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"],
                    [
                        "arn:aws:iam::222222222222:role/ProductionAppRole",
                        "arn:aws:iam::333333333333:role/EtlRole",
                        "arn:aws:iam::333333333333:role/ReportingRole",
                    ],
                ),
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
                read("ReadProdApp", "arn:aws:iam::222222222222:root", "arn:aws:iam::222222222222:role/team/AppRole",
                     CURRENT),
                read("ReadProdApp2", "arn:aws:iam::222222222222:root", "arn:aws:iam::222222222222:role/BatchRole",
                     {"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}}),
                describe(
                    "arn:aws:iam::222222222222:root",
                    ["arn:aws:iam::222222222222:role/BatchRole", "arn:aws:iam::222222222222:role/team/AppRole"],
                ),
                deny_outside_accounts(["111111111111", "222222222222", "333333333333"]),
            ],
            id="same account twice: unique Sids, role paths, a stage without AWSCURRENT",
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


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        pytest.param(["AWSCURRENT"], {"StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}},
                     id="current: also without a stage and by VersionId"),
        pytest.param(["AWSPREVIOUS", "AWSCURRENT"],
                     {"StringEqualsIfExists": {"secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"]}},
                     id="current and previous"),
        pytest.param(["AWSPREVIOUS"], {"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}},
                     id="previous only: the stage must be named"),
    ],
)
def test_stage_condition(stages, expected):
    assert stage_condition(stages) == expected


def test_no_resource_policy_names_a_role_as_principal():
    """Finding 1: AWS rejects a resource policy naming a role that does not exist, and stores a
    re-created role as its old unique ID; principals are accounts, roles are conditions."""
    policy = secret_resource_policy(
        readers=[ReaderGrant("a", APP, ("R", "team/S")), ReaderGrant("b", DATA, ("T",))],
        security_account=SECURITY,
        environment_account_ids=[APP, DATA],
    )
    key = kms_key_policy(region="us-east-1", security_account=SECURITY, reader_roles=[(APP, "R"), (DATA, "T")])
    principals = [
        value
        for document in (policy, key)
        for statement in document["Statement"]
        if isinstance(statement["Principal"], dict)
        for value in ([statement["Principal"]["AWS"]] if isinstance(statement["Principal"]["AWS"], str)
                      else statement["Principal"]["AWS"])
    ]
    assert principals and all(value.endswith(":root") for value in principals)


def test_deny_statements_never_bind_the_security_account():
    """Finding 7: a wrong organization_id must not lock the security account out of its secrets."""
    policy = secret_resource_policy(
        readers=[], security_account=SECURITY, environment_account_ids=[APP], organization_id="o-a1b2c3d4e5"
    )
    denies = [statement for statement in policy["Statement"] if statement["Effect"] == "Deny"]
    assert [deny["Condition"]["StringNotEquals"] for deny in denies] == [
        {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:PrincipalAccount": SECURITY},
        {"aws:PrincipalAccount": [SECURITY, APP]},
    ]
    assert all(deny["Principal"] == "*" for deny in denies)


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
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"}
    assert policy["Statement"][0]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": "arn:aws:iam::333333333333:role/EtlRole"}
    assert reader_account_ids(declared) == [DATA]
    assert reader_roles(declared) == [(DATA, "EtlRole")]


ADMINISTERS = {
    "Sid": "SecurityAccountAdministers",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.mark.parametrize(
    ("region", "roles", "expected"),
    [
        pytest.param(
            "us-east-1",
            [(APP, "AppRole")],
            [
                ADMINISTERS,
                {
                    "Sid": "ReaderRolesDecryptViaSecretsManager",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/AppRole"},
                        "StringEquals": {
                            "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                            "kms:CallerAccount": "222222222222",
                        },
                    },
                },
            ],
            id="one reader role",
        ),
        pytest.param(
            "eu-west-1",
            [(DATA, "EtlRole"), (APP, "team/AppRole"), (DATA, "EtlRole")],
            [
                ADMINISTERS,
                {
                    "Sid": "ReaderRolesDecryptViaSecretsManager",
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {
                            "aws:PrincipalArn": [
                                "arn:aws:iam::222222222222:role/team/AppRole",
                                "arn:aws:iam::333333333333:role/EtlRole",
                            ]
                        },
                        "StringEquals": {
                            "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
                            "kms:CallerAccount": ["222222222222", "333333333333"],
                        },
                    },
                },
            ],
            id="replica region, two accounts, a role path",
        ),
        pytest.param("us-west-2", [], [ADMINISTERS], id="no readers: administration only"),
    ],
)
def test_kms_key_policy(region, roles, expected):
    assert kms_key_policy(region=region, security_account=SECURITY, reader_roles=roles) == {
        "Version": "2012-10-17",
        "Statement": expected,
    }


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


ROTATE_ITS_SECRETS = {
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
}
GENERATE_RANDOM_VALUES = {
    "Sid": "GenerateRandomValues",
    "Effect": "Allow",
    "Action": "secretsmanager:GetRandomPassword",
    "Resource": "*",
}
USE_PRIMARY_KEY = {
    "Sid": "UsePrimaryKeyViaSecretsManager",
    "Effect": "Allow",
    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
    "Resource": "arn:aws:kms:us-east-1:111111111111:key/k1",
    "Condition": {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:us-east-1:111111111111:secret:*"},
    },
}
REENCRYPT_REPLICAS = {
    "Sid": "ReencryptReplicasViaSecretsManager",
    "Effect": "Allow",
    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
    "Resource": ["arn:aws:kms:eu-west-1:111111111111:key/*", "arn:aws:kms:us-west-2:111111111111:key/k2"],
    "Condition": {
        "StringEquals": {
            "kms:ViaService": [
                "secretsmanager.eu-west-1.amazonaws.com",
                "secretsmanager.us-east-1.amazonaws.com",
                "secretsmanager.us-west-2.amazonaws.com",
            ]
        }
    },
}
KEYS_WITH_REPLICAS = {
    "us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1",
    "us-west-2": "arn:aws:kms:us-west-2:111111111111:key/k2",
    # kms.keys may name a key by alias: IAM matches keys by key ARN only, so every key there.
    "eu-west-1": "arn:aws:kms:eu-west-1:111111111111:alias/secrets",
}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param({"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1"},
                     [ROTATE_ITS_SECRETS, GENERATE_RANDOM_VALUES, USE_PRIMARY_KEY], id="no replicas"),
        pytest.param(KEYS_WITH_REPLICAS, [ROTATE_ITS_SECRETS, GENERATE_RANDOM_VALUES, USE_PRIMARY_KEY, REENCRYPT_REPLICAS],
                     id="replicas: their keys to re-encrypt each new value (finding 5)"),
    ],
)
def test_rotation_function_policy_covers_exactly_the_secrets_it_rotates(keys, expected):
    assert rotation_function_policy(
        function_name="prod-api-key-rotator", region="us-east-1", security_account=SECURITY, kms_key_arns=keys
    ) == {"Version": "2012-10-17", "Statement": expected}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param({"us-east-1": "arn:aws:kms:us-east-1:111111111111:key/k1"}, None, id="no replicas: no policy"),
        pytest.param(KEYS_WITH_REPLICAS, {"Version": "2012-10-17", "Statement": [REENCRYPT_REPLICAS]}, id="replicas"),
    ],
)
def test_replica_keys_policy_for_the_aws_rotation_apps(keys, expected):
    assert replica_keys_policy(primary_region="us-east-1", security_account=SECURITY, kms_key_arns=keys) == expected


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
