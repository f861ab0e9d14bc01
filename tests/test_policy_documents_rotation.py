"""Rotation decisions: schedule -> rotation rules, SAR applications per engine, sharing. No Pulumi runtime."""

from __future__ import annotations

import pytest

from secrets_layout.components.rotation import function_environment
from secrets_layout.components.rotation_settings import (
    ROTATE_IMMEDIATELY,
    ROTATION_APPLICATIONS,
    SAR_CAPABILITIES,
    bundled_rotation_groups,
    rotation_url_hosts,
    managed_rotation_groups,
    physical_name,
    rotation_method,
    rotation_rules,
    sar_application_id,
    sar_parameters,
)
from secrets_layout.declaration.models import ManagedRotation, Rotation, Secret, Vpc

VPC = Vpc(subnet_ids=["subnet-0a1b2c3d", "subnet-0e1f2a3b"], security_group_ids=["sg-0a1b2c3d"])
KEY = "arn:aws:kms:us-east-1:111111111111:key/k1"
MASTER = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db/master-AbCdEf"


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        pytest.param({"every_days": 30}, {"automatically_after_days": 30}, id="interval without window"),
        pytest.param({"every_days": 7, "window": "3h"}, {"schedule_expression": "rate(7 days)", "duration": "3h"},
                     id="interval with window becomes a rate"),
        pytest.param({"every_days": 1, "window": "2h"}, {"schedule_expression": "rate(1 day)", "duration": "2h"},
                     id="one day is singular"),
        pytest.param({"schedule": "rate(10 days)"}, {"schedule_expression": "rate(10 days)"}, id="rate as written"),
        pytest.param({"schedule": "rate(10 days)", "window": "2h"}, {"schedule_expression": "rate(10 days)", "duration": "2h"},
                     id="rate with window"),
        pytest.param({"schedule": "cron(0 4 ? * SUN *)", "window": "4h"},
                     {"schedule_expression": "cron(0 4 ? * SUN *)", "duration": "4h"}, id="cron with window"),
        pytest.param({}, {}, id="nothing"),
    ],
)
def test_rotation_rules(rotation, expected):
    """A window (Duration) only takes effect from a ScheduleExpression.

    RotationRulesType: "The window starts according to the ScheduleExpression"
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html), and the
    provider sends ScheduleExpression or AutomaticallyAfterDays, never both, plus Duration
    (terraform-provider-aws internal/service/secretsmanager/secret_rotation.go, expandRotationRulesType).
    """
    assert rotation_rules(Rotation.model_validate(rotation)) == expected


def test_rotation_is_never_immediate():
    assert ROTATE_IMMEDIATELY is False


# Every managed value of the declaration format, with the AWS application it deploys.
@pytest.mark.parametrize(
    ("managed", "application", "version", "multi_user"),
    [
        ("rds-postgresql-single-user", "SecretsManagerRDSPostgreSQLRotationSingleUser", "1.1.671", False),
        ("rds-postgresql-multi-user", "SecretsManagerRDSPostgreSQLRotationMultiUser", "1.1.671", True),
        ("rds-mysql-single-user", "SecretsManagerRDSMySQLRotationSingleUser", "1.1.671", False),
        ("rds-mysql-multi-user", "SecretsManagerRDSMySQLRotationMultiUser", "1.1.671", True),
        ("rds-mariadb-single-user", "SecretsManagerRDSMariaDBRotationSingleUser", "1.1.670", False),
        ("rds-mariadb-multi-user", "SecretsManagerRDSMariaDBRotationMultiUser", "1.1.670", True),
        ("rds-oracle-single-user", "SecretsManagerRDSOracleRotationSingleUser", "1.1.671", False),
        ("rds-oracle-multi-user", "SecretsManagerRDSOracleRotationMultiUser", "1.1.671", True),
        ("rds-sqlserver-single-user", "SecretsManagerRDSSQLServerRotationSingleUser", "1.1.670", False),
        ("rds-sqlserver-multi-user", "SecretsManagerRDSSQLServerRotationMultiUser", "1.1.671", True),
        ("redshift-single-user", "SecretsManagerRedshiftRotationSingleUser", "1.1.671", False),
        ("redshift-multi-user", "SecretsManagerRedshiftRotationMultiUser", "1.1.671", True),
        ("documentdb-single-user", "SecretsManagerMongoDBRotationSingleUser", "1.1.671", False),
        ("documentdb-multi-user", "SecretsManagerMongoDBRotationMultiUser", "1.1.671", True),
    ],
)
def test_sar_application_per_engine(managed, application, version, multi_user):
    engine = ManagedRotation(managed)
    assert sar_application_id(engine) == f"arn:aws:serverlessrepo:us-east-1:297356227824:applications/{application}"
    assert ROTATION_APPLICATIONS[engine].semantic_version == version
    assert ROTATION_APPLICATIONS[engine].multi_user is multi_user


def test_every_managed_value_has_an_application():
    assert set(ROTATION_APPLICATIONS) == set(ManagedRotation)
    assert SAR_CAPABILITIES == ("CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY")


@pytest.mark.parametrize(
    ("managed", "vpc", "master", "expected"),
    [
        pytest.param(
            "rds-postgresql-single-user",
            VPC,
            None,
            {
                "endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
                "functionName": "prod-rds-postgresql-single-user",
                "vpcSubnetIds": "subnet-0a1b2c3d,subnet-0e1f2a3b",
                "vpcSecurityGroupIds": "sg-0a1b2c3d",
                "kmsKeyArn": KEY,
            },
            id="single user in a VPC",
        ),
        pytest.param(
            "redshift-single-user",
            None,
            None,
            {
                "endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
                "functionName": "prod-rds-postgresql-single-user",
                "kmsKeyArn": KEY,
            },
            id="no VPC",
        ),
        pytest.param(
            "rds-mysql-multi-user",
            VPC,
            MASTER,
            {
                "endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
                "functionName": "prod-rds-postgresql-single-user",
                "vpcSubnetIds": "subnet-0a1b2c3d,subnet-0e1f2a3b",
                "vpcSecurityGroupIds": "sg-0a1b2c3d",
                "kmsKeyArn": KEY,
                "masterSecretArn": MASTER,
            },
            id="multi user takes the master secret",
        ),
    ],
)
def test_sar_parameters(managed, vpc, master, expected):
    assert (
        sar_parameters(
            managed=ManagedRotation(managed),
            region="us-east-1",
            function_name="prod-rds-postgresql-single-user",
            vpc=vpc,
            kms_key_arn=KEY,
            master_secret_arn=master,
        )
        == expected
    )


def test_multi_user_without_master_secret_says_how_to_fix():
    with pytest.raises(ValueError, match="masterarn"):
        sar_parameters(
            managed=ManagedRotation.DOCUMENTDB_MULTI_USER, region="us-east-1", function_name="f", vpc=None
        )


def secret(name: str, rotation: dict | None, template: dict | None = None) -> Secret:
    value = {"generate": {"key": "password"}, "template": template} if template else {"external": True}
    return Secret.model_validate({"name": name, "kind": "database", "value": value, "rotation": rotation})


POSTGRES_IN_VPC = {"managed": "rds-postgresql-single-user", "vpc": VPC.model_dump(), "every_days": 30}


def test_managed_applications_are_shared_per_engine_and_placement():
    groups = managed_rotation_groups(
        [
            secret("prod/a", POSTGRES_IN_VPC),
            secret("prod/b", {**POSTGRES_IN_VPC, "every_days": 7}),
            secret("prod/c", {"managed": "rds-postgresql-single-user", "every_days": 30}),
            secret("prod/d", {"managed": "rds-mysql-single-user", "vpc": VPC.model_dump()}),
            secret("prod/e", {"function": "api-key-rotator"}),
            secret("prod/f", {**POSTGRES_IN_VPC, "enabled": False, "reason": "decommissioned"}),
        ]
    )
    assert [(group.managed.value, group.secret_names, bool(group.placement)) for group in groups] == [
        ("rds-postgresql-single-user", ("prod/a", "prod/b"), True),
        ("rds-postgresql-single-user", ("prod/c",), True),
        ("rds-mysql-single-user", ("prod/d",), True),
    ]
    assert groups[0].function_name("prod") == f"prod-rds-postgresql-single-user-{groups[0].placement}"
    assert groups[0].placement != groups[1].placement
    # The placement suffix depends only on the VPC and the excluded characters, so adding another
    # group never renames one.
    assert groups[0].placement == groups[2].placement


def test_multi_user_applications_are_split_by_master_secret():
    other_master = MASTER.replace("master-AbCdEf", "other-master-AbCdEf")
    groups = managed_rotation_groups(
        [
            secret("prod/a", {"managed": "rds-mysql-multi-user"}, {"masterarn": MASTER}),
            secret("prod/b", {"managed": "rds-mysql-multi-user"}, {"masterarn": other_master}),
            secret("prod/c", {"managed": "rds-mysql-multi-user"}, {"masterarn": MASTER}),
        ]
    )
    assert [(group.secret_names, group.master_secret_arn) for group in groups] == [
        (("prod/a", "prod/c"), MASTER),
        (("prod/b",), other_master),
    ]


def test_bundled_functions_are_shared_per_placement():
    groups = bundled_rotation_groups(
        [
            secret("prod/a", {"function": "api-key-rotator"}),
            secret("prod/b", {"function": "api-key-rotator", "every_days": 30}),
            secret("prod/c", {"function": "api-key-rotator", "vpc": VPC.model_dump()}),
            secret("prod/d", POSTGRES_IN_VPC),
        ]
    )
    assert [(group.function.value, group.secret_names, group.vpc is not None) for group in groups] == [
        ("api-key-rotator", ("prod/a", "prod/b"), False),
        ("api-key-rotator", ("prod/c",), True),
    ]
    assert groups[0].function_name("prod") == "prod-api-key-rotator"


@pytest.mark.parametrize(("tags", "hosts"), [
    pytest.param({"rotation-create-url": "https://keys.example.com/v1/keys"}, {"keys.example.com"}, id="create-url"),
    pytest.param({"rotation-token-url": "https://auth.example.com/token", "rotation-verify-url": "https://api.example.com/me"},
                 {"auth.example.com", "api.example.com"}, id="two-urls"),
    pytest.param({"rotation-adapter": "http-api-key", "owner": "https://not-a-rotation-url.example.com"}, set(), id="other-tags"),
    pytest.param({"rotation-create-url": "not a url"}, set(), id="no-host"),
])
def test_rotation_url_hosts(tags, hosts):
    assert rotation_url_hosts(tags) == hosts


def test_bundled_function_allows_the_hosts_its_secrets_name():
    def declared(name, url):
        adapter = {"type": "http-api-key", "create_url": url, "verify_url": url + "/self"}
        return Secret.model_validate({"name": name, "kind": "api-key", "value": {"external": True},
                                      "rotation": {"function": "api-key-rotator", "adapter": adapter}})

    groups = bundled_rotation_groups([declared("prod/a", "https://b.example.com/k"), declared("prod/b", "https://a.example.com/k")])
    assert groups[0].allowed_hosts == ("a.example.com", "b.example.com")
    assert function_environment("us-east-1", groups[0].allowed_hosts) == {
        "SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
        "ROTATION_ALLOWED_HOSTS": "a.example.com,b.example.com",
    }
    assert "ROTATION_ALLOWED_HOSTS" not in function_environment("us-east-1", ())


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        ({"managed": "rds-postgresql-single-user"}, "managed"),
        ({"function": "api-key-rotator"}, "function"),
        ({"lambda_arn": "arn:aws:lambda:us-east-1:111111111111:function:f"}, "lambda_arn"),
        ({"enabled": False, "reason": "vendor console only"}, None),
        ({"every_days": 30}, None),
        (None, None),
    ],
)
def test_rotation_method(rotation, expected):
    assert rotation_method(secret("prod/x", rotation)) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("prod", "api-key-rotator", ""), "prod-api-key-rotator"),
        (("prod", "rds-postgresql-single-user", "769c87"), "prod-rds-postgresql-single-user-769c87"),
    ],
)
def test_physical_name(parts, expected):
    assert physical_name(*parts) == expected


def test_physical_name_stays_within_the_lambda_limit_and_is_stable():
    environment = "a-very-long-environment-name-xyz"
    name = physical_name(environment, "rds-postgresql-single-user", "769c87")
    assert len(name) <= 64 and name.startswith("a-very-long-environment-name-xyz-rds-postgresql")
    assert name == physical_name(environment, "rds-postgresql-single-user", "769c87")
    assert name != physical_name(environment, "rds-postgresql-single-user", "000000")


@pytest.mark.parametrize(("excluded", "parameter"), [
    pytest.param('"@/\\', '"/@\\', id="declared punctuation, in a stable order"),
    pytest.param("\"'/@ ", "\"'/@", id="the database default: the space goes"),
    pytest.param("", None, id="nothing excluded: the application's own default"),
])
def test_sar_parameters_pass_the_excluded_characters(excluded, parameter):
    """The AWS rotation applications take `excludeCharacters` (aws-cdk-lib aws-secretsmanager/lib/secret-rotation.ts,
    SecretRotation: `parameters.excludeCharacters = props.excludeCharacters`; the function reads it as
    EXCLUDE_CHARACTERS for GetRandomPassword, aws-samples/aws-secrets-manager-rotation-lambdas
    SecretsManagerRDSSQLServerRotationSingleUser/lambda_function.py get_random_password). GetRandomPassword never
    includes a space unless IncludeSpace is true
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html), so a space is
    left out of the parameter."""
    parameters = sar_parameters(managed=ManagedRotation.RDS_POSTGRESQL_SINGLE_USER, region="us-east-1",
                                function_name="f", vpc=None, exclude_characters=excluded)
    assert parameters.get("excludeCharacters") == parameter


def test_managed_applications_are_split_by_excluded_characters():
    def generated(name, excluded):
        return Secret.model_validate({
            "name": name, "kind": "database",
            "value": {"generate": {"key": "password", "exclude_characters": excluded},
                      "template": {"engine": "postgres", "host": "h", "username": "u"}},
            "rotation": {"managed": "rds-postgresql-single-user", "bootstrap": "database-reads-secret"}})

    groups = managed_rotation_groups([generated("prod/a", "@/"), generated("prod/b", "/@"), generated("prod/c", "@")])
    assert [(group.secret_names, group.exclude_characters) for group in groups] == [
        (("prod/a", "prod/b"), "/@"),
        (("prod/c",), "@"),
    ]
    assert groups[0].function_name("prod") != groups[1].function_name("prod")
