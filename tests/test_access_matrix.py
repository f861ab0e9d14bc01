"""Who can do what, evaluated by an outside IAM evaluator over the documents the program registers.

Each example environment runs through __main__.py on the mock engine; the secret policies,
key policies and rotation roles' policies are taken from what it registers, and the reader
roles' identity policies are what `secrets-layout consumer-policy` prints for each secret they
read (no example account has `deploy_role_arn`, so the layout writes none of them itself).
principalmapper evaluates every request (tests/iam_evaluator.py); nothing here decides access.

The expectations are the layout's contract, stated from the declaration alone:
- a reader role reads every region of its secrets: by each declared stage, and, when AWSCURRENT
  is declared, without a stage and by VersionId (what aws-secretsmanager-caching, ECS `secrets`
  and CloudFormation dynamic references send); a request naming AWSPENDING only if declared. A
  VersionId alone names no stage, so a reader with AWSCURRENT reads any version by its ID,
  AWSPENDING's included: the stage limit binds requests by stage name only;
  kms:Decrypt on each region's key only through Secrets Manager of that region;
- nobody else in the reader accounts, no other environment's account, no organization member
  outside `accounts:` and nobody outside the organization, whatever their own policies allow;
- the security account's administrator and deployment role keep every action, including
  PutResourcePolicy, even when the declared organization_id is wrong (break-glass);
- each rotation function rotates exactly its own secrets, uses the primary's key only through
  Secrets Manager, and may re-encrypt every replica's key (so replicas follow its new values).

Request context passed to the evaluator, per AWS: `secretsmanager:VersionStage` /
`secretsmanager:VersionId` only when the request passes them, and the resource key
`secretsmanager:resource/AllowRotationLambdaArn` when the secret rotates (Service Authorization
Reference, Secrets Manager: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html);
`aws:PrincipalOrgID` of the caller's organization; kms:ViaService, kms:CallerAccount and the
encryption context SecretARN when Secrets Manager calls KMS for the caller
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
Not modelled: forward access sessions themselves (KMS judges them as the caller's request with
kms:ViaService set, which is what is passed), and the AWS rotation apps' own template policy
(only the replica-key policy the layout adds to their role is evaluated).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from components_support import (
    KMS_KEY,
    MANAGED_ROTATION_APP,
    ROLE,
    ROLE_POLICY,
    ROOT,
    SAR_STACK,
    SECRET,
    SECRET_POLICY,
    SECRET_ROTATION,
    run_program,
    urn_name,
)
from iam_evaluator import allowed, role
from secrets_layout.components.policy_documents import ReaderGrant, consumer_read_policy, secret_resource_policy
from secrets_layout.consumer_policy import consumer_policy
from secrets_layout.declaration.loader import LoadedDeclaration, load_declaration

STACKS = ["dev", "staging", "prod", "shared-services"]
DEFAULT_ORGANIZATION = "o-a1b2c3d4e5"
OTHER_ORGANIZATION = "o-zzzzzzzzzz"
MEMBER_OUTSIDE_ACCOUNTS = "999999999999"
OUTSIDE_ORGANIZATION_ACCOUNT = "888888888888"
VERSION_ID = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SECRETS_AND_KEYS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:*", "kms:*"], "Resource": "*"}],
}


@dataclass(frozen=True)
class Request:
    who: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class Layout:
    """What one environment's program registers, by meaning."""

    loaded: LoadedDeclaration
    secret_arns: dict[str, dict[str, str]] = field(default_factory=dict)
    secret_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_arns: dict[str, str] = field(default_factory=dict)
    key_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    rotation_lambdas: dict[str, str] = field(default_factory=dict)
    role_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bundled_roles: dict[str, str] = field(default_factory=dict)
    managed_roles: dict[str, str] = field(default_factory=dict)

    @property
    def declaration(self):
        return self.loaded.declaration

    @property
    def secrets_with_policy(self) -> list:
        """The secrets whose resource policy the program registers. A secret being adopted (adopt:,
        step 1 of README "Adopting an existing secret") keeps its owner's policy until the migration,
        so there is nothing of ours to evaluate for it; test_every_other_secret_has_its_policy holds
        the rest to account."""
        return [secret for secret in self.declaration.secrets if secret.name in self.secret_policies]

    @property
    def security(self) -> str:
        return self.declaration.security_account

    @property
    def organization(self) -> str:
        return self.declaration.organization_id or DEFAULT_ORGANIZATION

    def secret_regions(self, name: str) -> list[str]:
        return list(self.secret_arns[name])

    def secret_of(self, arn: str) -> str:
        return next(name for name, arns in self.secret_arns.items() if arn in arns.values())


def regional(arn: str, region: str) -> str:
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


@cache
def layout(stack: str) -> Layout:
    run = run_program(stack)
    result = Layout(loaded=load_declaration(ROOT / "environments" / f"{stack}.yaml"))
    by_urn = run.by_urn()
    for resource in run.resources:
        if resource.type == SECRET:
            arn = resource.outputs["arn"]
            regions = [arn.split(":")[3]] + [replica["region"] for replica in resource.inputs.get("replicas") or []]
            result.secret_arns[resource.inputs["name"]] = {region: regional(arn, region) for region in regions}
        elif resource.type == KMS_KEY:
            arn = resource.outputs["arn"]
            result.key_arns[arn.split(":")[3]] = arn
            result.key_policies[arn.split(":")[3]] = json.loads(resource.inputs["policy"])
        elif resource.type == ROLE_POLICY:
            result.role_policies.setdefault(resource.inputs["role"], []).append(json.loads(resource.inputs["policy"]))
        elif resource.type == SECRET_ROTATION:
            result.rotation_lambdas[resource.inputs["secretId"]] = resource.inputs["rotationLambdaArn"]
        elif resource.type == ROLE:
            function = next(
                r for r in run.resources if r.parent == resource.parent and r.type == "aws:lambda/function:Function"
            )
            result.bundled_roles[function.outputs["arn"]] = resource.outputs["name"]
    for resource in run.resources:
        if resource.type == SECRET_POLICY:
            result.secret_policies[result.secret_of(resource.inputs["secretArn"])] = json.loads(resource.inputs["policy"])
        elif resource.type == SAR_STACK:
            function_arn = resource.outputs["outputs"]["RotationLambdaARN"]
            app = by_urn[resource.parent]
            assert app.type == MANAGED_ROTATION_APP
            role_policy = next(
                (r for r in run.resources if r.type == ROLE_POLICY and r.parent == app.urn), None
            )
            # Without a policy of ours on the app's role, the role is evaluated with none.
            result.managed_roles[function_arn] = (
                role_policy.inputs["role"] if role_policy else f"{urn_name(app.urn)}-role-without-our-policy"
            )
    result.rotation_lambdas = {
        result.secret_of(arn): function for arn, function in result.rotation_lambdas.items()
    }
    return result


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def secret_request(layout_: Layout, name: str, region: str, *, organization: str, **context: str) -> dict[str, Any]:
    keys = {"aws:PrincipalOrgID": organization, **context}
    if name in layout_.rotation_lambdas:
        keys["secretsmanager:resource/AllowRotationLambdaArn"] = layout_.rotation_lambdas[name]
    return {"resource": layout_.secret_arns[name][region], "resource_policy": layout_.secret_policies[name], "context": keys}


def via_secrets_manager(layout_: Layout, region: str, caller_account: str, secret_arn: str, organization: str) -> dict:
    return {
        "aws:PrincipalOrgID": organization,
        "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
        "kms:CallerAccount": caller_account,
        "kms:EncryptionContext:SecretARN": secret_arn,
        "kms:EncryptionContext:SecretVersionId": VERSION_ID,
    }


def evaluate(cases: list[tuple[str, Any, str, dict[str, Any], bool]]) -> list[str]:
    """Each case: (description, principal, action, request, expected) -> the mismatches."""
    mismatches = []
    for description, principal, action, request, expected in cases:
        got = allowed(
            principal,
            action,
            request["resource"],
            context=request.get("context"),
            resource_policy=request.get("resource_policy"),
        )
        if got != expected:
            mismatches.append(f"{description}: expected {'allow' if expected else 'deny'}, got {'allow' if got else 'deny'}")
    return mismatches


def reader_identity(layout_: Layout, account_name: str, role_name: str) -> list[dict[str, Any]]:
    """What the reader role has attached: the printed consumer policy of each secret it reads."""
    return [
        consumer_policy(layout_.loaded, secret.name, account_name)
        for secret in layout_.secrets_with_policy
        if any(reader.account == account_name and role_name in reader.roles for reader in secret.readers)
    ]


def reader_cases(layout_: Layout) -> list:
    cases = []
    for secret in layout_.secrets_with_policy:
        for reader in secret.readers:
            account = layout_.declaration.account_id(reader.account)
            for role_name in reader.roles:
                principal = role(role_arn(account, role_name), reader_identity(layout_, reader.account, role_name))
                reads_current = "AWSCURRENT" in reader.stages
                for region in layout_.secret_regions(secret.name):
                    where = f"{role_name} on {secret.name} in {region}"
                    ask = lambda **c: secret_request(layout_, secret.name, region, organization=layout_.organization, **c)  # noqa: E731
                    read = "secretsmanager:GetSecretValue"
                    cases += [
                        (f"{where}: AWSCURRENT by stage", principal, read, ask(**{"secretsmanager:VersionStage": "AWSCURRENT"}), reads_current),
                        (f"{where}: no stage", principal, read, ask(), reads_current),
                        # A VersionId alone names no stage, so the stage limit cannot bind it: whichever version
                        # the ID is, AWSPENDING's during a rotation included, it is read.
                        (f"{where}: any version by its VersionId alone", principal, read, ask(**{"secretsmanager:VersionId": VERSION_ID}), reads_current),
                        (f"{where}: AWSPENDING by stage", principal, read, ask(**{"secretsmanager:VersionStage": "AWSPENDING"}), "AWSPENDING" in reader.stages),
                        (f"{where}: AWSPENDING by stage and VersionId", principal, read, ask(**{"secretsmanager:VersionStage": "AWSPENDING", "secretsmanager:VersionId": VERSION_ID}), "AWSPENDING" in reader.stages),
                        (f"{where}: DescribeSecret", principal, "secretsmanager:DescribeSecret", ask(), True),
                    ]
                    cases += [
                        (f"{where}: {stage} by stage", principal, read, ask(**{"secretsmanager:VersionStage": stage}), True)
                        for stage in reader.stages
                    ]
                    cases += [
                        (f"{where}: {stage} by stage and VersionId", principal, read,
                         ask(**{"secretsmanager:VersionStage": stage, "secretsmanager:VersionId": VERSION_ID}), True)
                        for stage in reader.stages
                    ]
                    if region in layout_.key_policies:
                        key = {"resource": layout_.key_arns[region], "resource_policy": layout_.key_policies[region]}
                        secret_arn = layout_.secret_arns[secret.name][region]
                        cases += [
                            (f"{where}: kms:Decrypt via Secrets Manager", principal, "kms:Decrypt",
                             {**key, "context": via_secrets_manager(layout_, region, account, secret_arn, layout_.organization)}, True),
                            (f"{where}: kms:Decrypt directly", principal, "kms:Decrypt",
                             {**key, "context": {"aws:PrincipalOrgID": layout_.organization, "kms:CallerAccount": account}}, False),
                        ]
    return cases


def outsiders(layout_: Layout, stack: str) -> list[tuple[str, str, str]]:
    """(description, role ARN, organization) of principals that must read nothing."""
    other_stack = STACKS[(STACKS.index(stack) + 1) % len(STACKS)]
    other = load_declaration(ROOT / "environments" / f"{other_stack}.yaml").declaration
    other_account = next(iter(other.accounts.values())).id
    reader_account = next(iter(layout_.declaration.accounts.values())).id
    return [
        (f"a role of {other_stack}'s account", role_arn(other_account, "ProductionAppRole"), layout_.organization),
        ("a role of a reader account that reads nothing", role_arn(reader_account, "NotAReaderRole"), layout_.organization),
        ("an organization member outside accounts:", role_arn(MEMBER_OUTSIDE_ACCOUNTS, "AppRole"), layout_.organization),
        ("a principal outside the organization", role_arn(OUTSIDE_ORGANIZATION_ACCOUNT, "AppRole"), OTHER_ORGANIZATION),
    ]


def outsider_cases(layout_: Layout, stack: str) -> list:
    cases = []
    for description, arn, organization in outsiders(layout_, stack):
        principal = role(arn, [SECRETS_AND_KEYS])
        account = arn.split(":")[4]
        for secret in layout_.secrets_with_policy:
            for region in layout_.secret_regions(secret.name):
                where = f"{description} on {secret.name} in {region}"
                ask = lambda **c: secret_request(layout_, secret.name, region, organization=organization, **c)  # noqa: E731
                cases += [
                    (f"{where}: no stage", principal, "secretsmanager:GetSecretValue", ask(), False),
                    (f"{where}: AWSCURRENT by stage", principal, "secretsmanager:GetSecretValue",
                     ask(**{"secretsmanager:VersionStage": "AWSCURRENT"}), False),
                    (f"{where}: DescribeSecret", principal, "secretsmanager:DescribeSecret", ask(), False),
                    (f"{where}: PutResourcePolicy", principal, "secretsmanager:PutResourcePolicy", ask(), False),
                ]
                if region in layout_.key_policies:
                    secret_arn = layout_.secret_arns[secret.name][region]
                    cases.append(
                        (f"{where}: kms:Decrypt via Secrets Manager", principal, "kms:Decrypt",
                         {"resource": layout_.key_arns[region], "resource_policy": layout_.key_policies[region],
                          "context": via_secrets_manager(layout_, region, account, secret_arn, organization)}, False)
                    )
    return cases


def security_cases(layout_: Layout) -> list:
    """The security account's own principals, with the declared organization and with a wrong one."""
    cases = []
    principals = [
        ("administrator", role(role_arn(layout_.security, "Administrator"), [EVERYTHING])),
        ("deployment role", role(role_arn(layout_.security, "secrets-layout-deploy"), [SECRETS_AND_KEYS])),
    ]
    organizations = [("declared organization", layout_.organization), ("organization_id wrong", OTHER_ORGANIZATION)]
    for who, principal in principals:
        for org_label, organization in organizations:
            for secret in layout_.secrets_with_policy:
                for region in layout_.secret_regions(secret.name):
                    where = f"{who} ({org_label}) on {secret.name} in {region}"
                    ask = secret_request(layout_, secret.name, region, organization=organization)
                    cases += [
                        (f"{where}: {action}", principal, f"secretsmanager:{action}", ask, True)
                        for action in ("PutResourcePolicy", "DeleteResourcePolicy", "GetSecretValue", "DescribeSecret", "UpdateSecret")
                    ]
            for region, key in layout_.key_arns.items():
                request = {"resource": key, "resource_policy": layout_.key_policies[region], "context": {"aws:PrincipalOrgID": organization}}
                cases += [
                    (f"{who} ({org_label}) on the {region} key: {action}", principal, action, request, True)
                    for action in ("kms:PutKeyPolicy", "kms:DescribeKey")
                ]
    return cases


def rotation_cases(layout_: Layout) -> list:
    cases = []
    primary = layout_.declaration.primary_region
    functions = [(arn, name, "bundled") for arn, name in layout_.bundled_roles.items()]
    functions += [(arn, name, "managed") for arn, name in layout_.managed_roles.items()]
    for function_arn, role_name, kind in functions:
        function = function_arn.rsplit(":", 1)[-1]
        principal = role(role_arn(layout_.security, role_name), layout_.role_policies.get(role_name, []))
        if kind == "bundled":
            for secret in layout_.secrets_with_policy:
                own = layout_.rotation_lambdas.get(secret.name) == function_arn
                where = f"{function} on {'its' if own else 'another'} secret {secret.name}"
                ask = lambda **c: secret_request(layout_, secret.name, primary, organization=layout_.organization, **c)  # noqa: E731
                cases += [
                    (f"{where}: GetSecretValue AWSPENDING", principal, "secretsmanager:GetSecretValue",
                     ask(**{"secretsmanager:VersionStage": "AWSPENDING", "secretsmanager:VersionId": VERSION_ID}), own),
                    (f"{where}: GetSecretValue AWSCURRENT", principal, "secretsmanager:GetSecretValue",
                     ask(**{"secretsmanager:VersionStage": "AWSCURRENT"}), own),
                    (f"{where}: PutSecretValue", principal, "secretsmanager:PutSecretValue", ask(), own),
                    (f"{where}: UpdateSecretVersionStage", principal, "secretsmanager:UpdateSecretVersionStage", ask(), own),
                    (f"{where}: DescribeSecret", principal, "secretsmanager:DescribeSecret", ask(), own),
                ]
                if own and primary in layout_.key_policies:
                    secret_arn = layout_.secret_arns[secret.name][primary]
                    key = {"resource": layout_.key_arns[primary], "resource_policy": layout_.key_policies[primary]}
                    context = via_secrets_manager(layout_, primary, layout_.security, secret_arn, layout_.organization)
                    cases += [
                        (f"{where}: {action} on the primary key via Secrets Manager", principal, action, {**key, "context": context}, True)
                        for action in ("kms:Decrypt", "kms:GenerateDataKey")
                    ]
                    cases.append(
                        (f"{where}: kms:Decrypt on the primary key directly", principal, "kms:Decrypt",
                         {**key, "context": {"aws:PrincipalOrgID": layout_.organization}}, False)
                    )
        for region in layout_.key_policies:
            if region == primary:
                continue
            key = {"resource": layout_.key_arns[region], "resource_policy": layout_.key_policies[region]}
            replica_secret = next(
                (arns[region] for arns in layout_.secret_arns.values() if region in arns), None
            )
            for service_region in sorted({primary, region}):
                context = {
                    "aws:PrincipalOrgID": layout_.organization,
                    "kms:ViaService": f"secretsmanager.{service_region}.amazonaws.com",
                    "kms:CallerAccount": layout_.security,
                    **({"kms:EncryptionContext:SecretARN": replica_secret} if replica_secret else {}),
                }
                cases += [
                    (f"{function} re-encrypts the {region} replica key ({action}, via {service_region})", principal, action,
                     {**key, "context": context}, True)
                    for action in ("kms:Encrypt", "kms:GenerateDataKey")
                ]
            cases.append(
                (f"{function}: kms:Encrypt on the {region} key directly", principal, "kms:Encrypt",
                 {**key, "context": {"aws:PrincipalOrgID": layout_.organization}}, False)
            )
    return cases


# -- The evaluator, on textbook cases first --------------------------------------------------------

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-AbCdEf"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_READ = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}


@pytest.mark.parametrize(
    ("caller", "identity", "resource", "resource_policy", "context", "expected"),
    [
        pytest.param("111111111111", [document(ALLOW_READ)], SECRET_ARN, None, {}, True,
                     id="same account: the identity policy alone allows"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"}}), {}, True,
                     id="cross-account: both sides allow"),
        pytest.param("222222222222", [], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"}}), {}, False,
                     id="cross-account: the resource policy alone does not allow"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN, document(), {}, False,
                     id="cross-account: the identity policy alone does not allow"),
        pytest.param("111111111111", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Effect": "Deny", "Principal": "*"}), {}, False,
                     id="an explicit deny in the resource policy wins"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                               "Condition": {"StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}}}),
                     {}, True, id="...IfExists: true when the key is absent"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                               "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}}),
                     {}, False, id="StringEquals: false when the key is absent"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                               "Condition": {"StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}}}),
                     {"secretsmanager:VersionStage": "AWSPENDING"}, False, id="...IfExists: compared when present"),
        pytest.param("222222222222", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                               "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/Other"}}}),
                     {}, False, id="aws:PrincipalArn pins the role"),
        pytest.param("111111111111", [document(ALLOW_READ)], SECRET_ARN,
                     document({**ALLOW_READ, "Effect": "Deny", "Principal": "*",
                               "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}),
                     {}, False, id="StringNotEquals: true (deny applies) when the key is absent"),
        pytest.param("111111111111", [document({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})], KEY_ARN,
                     document(), {}, False, id="KMS: same account still needs the key policy"),
        pytest.param("111111111111", [document({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})], KEY_ARN,
                     document({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                               "Action": "kms:*", "Resource": "*"}), {}, True,
                     id="KMS: the account root in the key policy enables IAM policies"),
    ],
)
def test_the_evaluator_on_textbook_cases(caller, identity, resource, resource_policy, context, expected):
    """IAM's policy evaluation logic, as documented in "Policy evaluation logic" and "Cross-account
    policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
    .../reference_policies_evaluation-logic-cross-account.html) and, for KMS, "Key policies"
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: no IAM policy is
    effective unless the key policy allows it)."""
    principal = role(f"arn:aws:iam::{caller}:role/Caller", identity)
    action = "kms:Decrypt" if resource == KEY_ARN else "secretsmanager:GetSecretValue"
    assert allowed(principal, action, resource, context=context, resource_policy=resource_policy) is expected


# -- What the stage limit binds, for every kind of reader ------------------------------------------

NO_STAGE: dict[str, str] = {}
BY_ID = {"secretsmanager:VersionId": VERSION_ID}


def by_stage(stage: str, **also: str) -> dict[str, str]:
    return {"secretsmanager:VersionStage": stage, **also}


@pytest.mark.parametrize(
    ("stages", "request_context", "expected"),
    [
        pytest.param(["AWSCURRENT"], NO_STAGE, True, id="current reader: no stage"),
        pytest.param(["AWSCURRENT"], by_stage("AWSCURRENT"), True, id="current reader: AWSCURRENT"),
        pytest.param(["AWSCURRENT"], by_stage("AWSPENDING"), False, id="current reader: AWSPENDING by name"),
        pytest.param(["AWSCURRENT"], by_stage("AWSPREVIOUS"), False, id="current reader: AWSPREVIOUS by name"),
        pytest.param(["AWSCURRENT"], by_stage("AWSPENDING", **BY_ID), False,
                     id="current reader: AWSPENDING by name and VersionId"),
        pytest.param(["AWSCURRENT"], BY_ID, True, id="current reader: any version by its VersionId alone"),
        pytest.param(["AWSCURRENT", "AWSPREVIOUS"], by_stage("AWSPREVIOUS"), True,
                     id="current and previous reader: AWSPREVIOUS"),
        pytest.param(["AWSPREVIOUS"], by_stage("AWSPREVIOUS"), True, id="previous-only reader: AWSPREVIOUS"),
        pytest.param(["AWSPREVIOUS"], by_stage("AWSPREVIOUS", **BY_ID), True,
                     id="previous-only reader: AWSPREVIOUS with a VersionId"),
        pytest.param(["AWSPREVIOUS"], NO_STAGE, False, id="previous-only reader: no stage"),
        pytest.param(["AWSPREVIOUS"], BY_ID, False, id="previous-only reader: a VersionId alone"),
        pytest.param(["AWSPREVIOUS"], by_stage("AWSCURRENT"), False, id="previous-only reader: AWSCURRENT"),
    ],
)
def test_the_stage_limit_binds_requests_by_stage_name_only(stages, request_context, expected):
    """What `consumer-policy`'s note promises (secrets_layout/consumer_policy.py), request by request.

    GetSecretValue's VersionStage is optional, and a request with a VersionId names no stage
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html);
    `secretsmanager:VersionStage` is in the request context only when the request names a stage
    (Service Authorization Reference, Secrets Manager). A reader of AWSCURRENT is therefore allowed a
    request without a stage, and so any version by its VersionId alone, AWSPENDING's included."""
    name = "test/app/api-key"
    policy = secret_resource_policy(
        readers=[ReaderGrant(account_name="test-app", account_id="222222222222", roles=("AppRole",), stages=tuple(stages))],
        security_account="111111111111",
        environment_account_ids=["222222222222"],
        organization_id=DEFAULT_ORGANIZATION,
    )
    identity = consumer_read_policy(
        secrets={name: ["us-east-1"]}, security_account="111111111111",
        kms_key_arns=["arn:aws:kms:us-east-1:111111111111:key/*"],
    )
    principal = role(role_arn("222222222222", "AppRole"), [identity])
    context = {"aws:PrincipalOrgID": DEFAULT_ORGANIZATION, **request_context}
    secret_arn = f"arn:aws:secretsmanager:us-east-1:111111111111:secret:{name}-AbCdEf"
    assert allowed(principal, "secretsmanager:GetSecretValue", secret_arn, context=context,
                   resource_policy=policy) is expected


# -- The matrix ------------------------------------------------------------------------------------

GROUPS = {
    "readers": lambda layout_, stack: reader_cases(layout_),
    "outsiders": outsider_cases,
    "security account": lambda layout_, stack: security_cases(layout_),
    "rotation functions": lambda layout_, stack: rotation_cases(layout_),
}


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("stack", STACKS)
def test_access_matrix(stack, group):
    cases = GROUPS[group](layout(stack), stack)
    assert cases, f"{stack}: no {group} cases"
    assert evaluate(cases) == []


def test_every_layout_with_replicas_lets_every_rotation_function_reach_the_replica_keys():
    """Finding 5 on the program: each rotation function the layout deploys (bundled and AWS
    rotation apps) has a policy of ours covering the replica regions' keys."""
    checked = 0
    for stack in STACKS:
        layout_ = layout(stack)
        if len(layout_.key_arns) < 2:
            continue
        for role_name in [*layout_.bundled_roles.values(), *layout_.managed_roles.values()]:
            granted = json.dumps(layout_.role_policies.get(role_name, []))
            for region, key in layout_.key_arns.items():
                if region != layout_.declaration.primary_region:
                    assert key in granted, f"{stack}: {role_name} cannot re-encrypt the {region} replica"
                    checked += 1
    assert checked


@pytest.mark.parametrize("stack", STACKS)
def test_every_other_secret_has_its_policy(stack):
    """Only a secret being adopted goes without a registered policy (see Layout.secrets_with_policy)."""
    layout_ = layout(stack)
    unpoliced = {secret.name for secret in layout_.declaration.secrets if secret.name not in layout_.secret_policies}
    assert unpoliced == {secret.name for secret in layout_.declaration.secrets if secret.adopt is not None}
