"""Per-secret decisions: tags, generated values, ARNs by region. No Pulumi runtime."""

from __future__ import annotations

import json

import pytest

from secrets_layout.components.secret_settings import (
    arns_by_region,
    parameter_resource_suffix,
    parameter_tags,
    password_settings,
    render_generated_value,
    replica_arn,
    secret_tags,
)
from secrets_layout.declaration.models import Parameter, Secret

PRIMARY = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db/credentials-AbCdEf"


def secret(**fields) -> Secret:
    return Secret.model_validate({"name": "prod/x/y", "value": {"external": True}, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"kind": "database", "tags": {"owner": "platform-team"}},
            {"owner": "platform-team", "environment": "prod", "kind": "database", "managed-by": "secrets-layout"},
            id="user tags plus the layout's",
        ),
        pytest.param(
            {"tags": {"environment": "staging", "managed-by": "someone"}},
            {"environment": "prod", "kind": "generic", "managed-by": "secrets-layout"},
            id="the layout's keys win",
        ),
        pytest.param(
            {"kind": "api-key", "rotation": {"enabled": False, "reason": "vendor console only"}},
            {
                "environment": "prod",
                "kind": "api-key",
                "managed-by": "secrets-layout",
                "rotation-exempt": "vendor console only",
            },
            id="documented exemption",
        ),
        pytest.param(
            {"kind": "api-key", "rotation": {"function": "api-key-rotator", "every_days": 30}},
            {"environment": "prod", "kind": "api-key", "managed-by": "secrets-layout"},
            id="rotating: no exemption tag",
        ),
    ],
)
def test_secret_tags(fields, expected):
    assert secret_tags(secret(**fields), "prod") == expected


def test_parameter_tags():
    parameter = Parameter(name="/prod/a", value="1", tags={"owner": "orders"})
    assert parameter_tags(parameter, "prod") == {"owner": "orders", "environment": "prod", "managed-by": "secrets-layout"}
    assert parameter_resource_suffix("/prod/orders/log-level") == "prod/orders/log-level"


@pytest.mark.parametrize(
    ("kind", "generate", "expected"),
    [
        pytest.param(
            "database",
            {"key": "password", "length": 32, "exclude_characters": "\"@/\\"},
            {"length": 32, "special": True, "override_special": "!#$%&*()-_=+[]{}<>:?"},
            id="declared exclusions",
        ),
        pytest.param(
            "database",
            {"key": "password"},
            {"length": 32, "special": True, "override_special": "!#$%&*()-_=+[]{}<>:?"},
            id="database default: what RDS rejects",
        ),
        pytest.param(
            "api-key",
            {"length": 40},
            {"length": 40, "special": True, "override_special": "!@#$%&*()-_=+[]{}<>:?"},
            id="no exclusions",
        ),
        pytest.param(
            "generic",
            {"length": 64, "exclude_punctuation": True},
            {"length": 64, "special": False},
            id="letters and digits only",
        ),
        pytest.param(
            "generic",
            {"exclude_characters": "!@#$%&*()-_=+[]{}<>:?"},
            {"length": 32, "special": False},
            id="every special character excluded",
        ),
    ],
)
def test_password_settings(kind, generate, expected):
    assert password_settings(secret(kind=kind, value={"generate": generate})) == expected


def test_password_settings_need_a_generated_value():
    with pytest.raises(ValueError, match="not generated"):
        password_settings(secret())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {
                "kind": "database",
                "value": {
                    "generate": {"key": "password"},
                    "template": {"username": "admin", "engine": "postgres", "port": 5432},
                },
            },
            {"username": "admin", "engine": "postgres", "port": 5432, "password": "GENERATED"},
            id="json: template plus the generated key",
        ),
        pytest.param(
            {"format": "json", "value": {"generate": {}}},
            {"password": "GENERATED"},
            id="json without key: password",
        ),
        pytest.param(
            {"format": "json", "value": {"generate": {"key": "token"}, "template": {"password": "unused"}}},
            {"password": "unused", "token": "GENERATED"},
            id="the generated key is added last",
        ),
    ],
)
def test_render_generated_json_value(fields, expected):
    assert json.loads(render_generated_value(secret(**fields), "GENERATED")) == expected


def test_render_generated_plaintext_value():
    assert render_generated_value(secret(kind="api-key", value={"generate": {}}), "GENERATED") == "GENERATED"


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-west-2", "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/db/credentials-AbCdEf"),
        ("eu-west-1", "arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/db/credentials-AbCdEf"),
    ],
)
def test_replica_arn(region, expected):
    assert replica_arn(PRIMARY, region) == expected


def test_replica_arn_keeps_colons_in_the_name():
    arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:odd:name-AbCdEf"
    assert replica_arn(arn, "eu-west-1") == "arn:aws:secretsmanager:eu-west-1:111111111111:secret:odd:name-AbCdEf"


def test_replica_arn_rejects_other_arns():
    with pytest.raises(ValueError):
        replica_arn("arn:aws:kms:us-east-1:111111111111:key/k", "eu-west-1")


def test_arns_by_region():
    assert arns_by_region(PRIMARY, "us-east-1", ["us-west-2"]) == {
        "us-east-1": PRIMARY,
        "us-west-2": "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/db/credentials-AbCdEf",
    }
