"""Shared helpers for the policy pack tests: the example environments and resources shaped the way
the components make them (camelCase properties, as the engine sends them to the analyzer)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Dict, List, Optional

from secrets_layout.engine.analyzer_messages import Provider, Resource, make_urn

ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = ROOT / "policies"
CONFIG_DIR = PACK_DIR / "config"

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"

SECURITY_ACCOUNT = "111111111111"
ENVIRONMENTS: Dict[str, dict] = {
    "dev": {"accounts": {"dev-app": "444444444444"}, "organization": None, "primary": "us-east-1",
            "replicas": [], "max_days": 7},
    "staging": {"accounts": {"staging-app": "555555555555"}, "organization": None, "primary": "us-east-1",
                "replicas": ["us-west-2"], "max_days": 30},
    "prod": {"accounts": {"prod-app": "222222222222", "prod-data": "333333333333"}, "organization": "o-a1b2c3d4e5",
             "primary": "us-east-1", "replicas": ["us-west-2", "eu-west-1"], "max_days": 90},
    "shared-services": {"accounts": {"shared-ci": "666666666666", "shared-monitoring": "777777777777"},
                        "organization": None, "primary": "us-east-1", "replicas": ["us-west-2"], "max_days": 90},
}


def config_file(env: str) -> Path:
    return CONFIG_DIR / f"{env}.json"


def key_arn(region: str, key_id: str = "1234abcd-12ab-34cd-56ef-1234567890ab") -> str:
    return f"arn:aws:kms:{region}:{SECURITY_ACCOUNT}:key/{key_id}"


def secret_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:secretsmanager:{region}:{SECURITY_ACCOUNT}:secret:{name}-AbCdEf"


def policy_document(env: str, secret_name: str, *, organization: Optional[str] = "default",
                    readers: Optional[Dict[str, List[str]]] = None) -> str:
    """The resource policy the components write: Allow to reader roles (VersionStage condition) and a
    Deny to principals outside the organization, or outside the environment's accounts."""
    spec = ENVIRONMENTS[env]
    org = spec["organization"] if organization == "default" else organization
    readers = readers if readers is not None else {name: ["AppRole"] for name in spec["accounts"]}
    statements: List[dict] = []
    for account_name, roles in readers.items():
        account = spec["accounts"].get(account_name, account_name)
        statements.append({
            "Sid": f"Read{account_name.title().replace('-', '')}",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{account}:role/{role}" for role in roles]},
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "*",
            "Condition": {"StringEquals": {"secretsmanager:VersionStage": ["AWSCURRENT"]}},
        })
    if org:
        condition = {"StringNotEquals": {"aws:PrincipalOrgID": org}}
    else:
        condition = {"StringNotEquals": {"aws:PrincipalAccount": [SECURITY_ACCOUNT, *spec["accounts"].values()]}}
    statements.append({"Sid": "DenyOutside", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*",
                       "Resource": "*", "Condition": condition})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def secret_props(env: str, name: Optional[str] = None, *, kind: str = "database", outputs: bool = True) -> dict:
    spec = ENVIRONMENTS[env]
    name = name or f"{env}/orders/database"
    props = {
        "name": name,
        "description": "Orders database credentials",
        "kmsKeyId": key_arn(spec["primary"]),
        "recoveryWindowInDays": 30,
        "replicas": [{"region": region, "kmsKeyId": key_arn(region)} for region in spec["replicas"]],
        "forceOverwriteReplicaSecret": False,
        "tags": {"environment": env, "kind": kind, "managed-by": "secrets-layout", "owner": "platform-team"},
    }
    if outputs:
        props["arn"] = props["id"] = secret_arn(name)
    return props


def layout(env: str, logical: str = "orders-db", *, protect: Optional[bool] = None) -> List[Resource]:
    """One secret as the components make it: KMS key per region, Secret, SecretPolicy, SecretRotation."""
    spec = ENVIRONMENTS[env]
    protect = env in ("prod", "shared-services") if protect is None else protect
    props = secret_props(env)
    secret_urn = make_urn(SECRET, logical, stack=env)
    # The engine sends every resource's provider with its inputs (a default provider when none is given).
    provider = Provider("pulumi:providers:aws", f"aws-{spec['primary']}", {"region": spec["primary"]},
                        make_urn("pulumi:providers:aws", f"aws-{spec['primary']}", stack=env))
    resources = [
        Resource(KMS_KEY, f"key-{region}", {"description": f"secrets {env} {region}", "enableKeyRotation": True,
                                            "deletionWindowInDays": 30}, urn=make_urn(KMS_KEY, f"key-{region}", stack=env))
        for region in [spec["primary"], *spec["replicas"]]
    ]
    resources += [
        Resource(KMS_ALIAS, "alias", {"name": f"alias/secrets/{env}", "targetKeyId": key_arn(spec["primary"])},
                 urn=make_urn(KMS_ALIAS, "alias", stack=env)),
        Resource(SECRET, logical, props, urn=secret_urn, protect=protect),
        Resource(SECRET_POLICY, f"{logical}-policy",
                 {"secretArn": props["arn"], "blockPublicPolicy": True,
                  "policy": policy_document(env, props["name"])},
                 urn=make_urn(SECRET_POLICY, f"{logical}-policy", stack=env),
                 property_dependencies={"secretArn": [secret_urn]}),
        Resource(SECRET_ROTATION, f"{logical}-rotation",
                 {"secretId": props["id"], "rotationLambdaArn": "arn:aws:lambda:us-east-1:111111111111:function:rot",
                  "rotationRules": {"automaticallyAfterDays": spec["max_days"]}},
                 urn=make_urn(SECRET_ROTATION, f"{logical}-rotation", stack=env),
                 property_dependencies={"secretId": [secret_urn]}),
    ]
    for resource in resources:
        resource.provider = copy.deepcopy(provider)
    return resources


def replace(resources: List[Resource], type_: str, **changes) -> List[Resource]:
    """A deep copy of ``resources`` where the first resource of ``type_`` gets ``changes``:
    ``props={...}`` merges properties (None deletes), other keys set Resource fields."""
    result = copy.deepcopy(resources)
    for resource in result:
        if resource.type == type_:
            props = dict(resource.properties)
            for key, value in changes.pop("props", {}).items():
                if value is None:
                    props.pop(key, None)
                else:
                    props[key] = value
            resource.properties = props
            for key, value in changes.items():
                setattr(resource, key, value)
            break
    else:
        raise AssertionError(f"no {type_} in resources")
    return result


def drop(resources: List[Resource], type_: str) -> List[Resource]:
    return [copy.deepcopy(r) for r in resources if r.type != type_]
