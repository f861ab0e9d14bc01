"""The policy documents of the layout, as pure functions returning plain dicts.

Nothing here touches Pulumi: every function takes names, account IDs and ARNs and returns
an IAM policy document, so each one is tested with exact JSON (tests/test_policy_documents*.py)
and reused by anyone who needs the same document (the CLI's `consumer-policy`, other programs).

Conventions, so that `pulumi refresh` shows no drift: a list with one element is written as
that element (AWS stores it that way), values are sorted where order has no meaning, and
Sids are letters and digits only (IAM's rule).

Reader roles are never named in `Principal`. A resource policy that names a role which does not
exist is rejected (Secrets Manager: MalformedPolicyDocumentException, "unsupported principal";
KMS: "Policy contains a statement with one or more invalid principals"), and a role deleted and
re-created is stored as the old role's unique ID, which the new role does not match
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html,
"IAM roles" and "Specifying a role as a principal"; the provider then reads a principal that is
no ARN, hashicorp/terraform-provider-aws#29496). So the policies name the reader ACCOUNTS
(`arn:aws:iam::<id>:root`) and pin the roles with `ArnEquals` on `aws:PrincipalArn`, which for an
assumed role is the role's ARN (path included) and is compared as text at request time
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn):
a missing reader role never fails the deploy, and a re-created role reads again at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secrets_layout.components.secret_settings import secret_regions
from secrets_layout.declaration.models import Declaration, Secret

POLICY_VERSION = "2012-10-17"
PARTITION = "aws"
SECRET_READ_ACTION = "secretsmanager:GetSecretValue"
SECRET_DESCRIBE_ACTION = "secretsmanager:DescribeSecret"
READER_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
ROTATION_SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
ROTATION_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
REPLICA_KEY_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")
CURRENT_STAGE = "AWSCURRENT"


@dataclass(frozen=True)
class ReaderGrant:
    """Roles of one consumer account that may read a secret, at the given version stages."""

    account_name: str
    account_id: str
    roles: tuple[str, ...]
    stages: tuple[str, ...] = ("AWSCURRENT",)


def one_or_many(values: Iterable[str]) -> str | list[str]:
    """A single value as itself, several as a sorted list without duplicates (AWS's stored form)."""
    unique = sorted(set(values))
    return unique[0] if len(unique) == 1 else unique


def statement_id(*words: str) -> str:
    """A Sid from words: 'prod-app' -> 'ProdApp' (IAM allows only letters and digits)."""
    parts = [part for word in words for part in re.split(r"[^A-Za-z0-9]+", word) if part]
    return "".join(part[:1].upper() + part[1:] for part in parts)


def account_root_arn(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def role_arn(account_id: str, role: str) -> str:
    """The ARN of a role given as `Name` or `path/to/Name`."""
    return f"arn:{PARTITION}:iam::{account_id}:role/{role}"


def secret_arn_pattern(*, region: str, account_id: str, secret_name: str) -> str:
    """An ARN that matches the secret by name, whatever six characters AWS appended.

    Identity policies can then name secrets before they exist, and consumers keep referring
    to names, not ARNs. `?` matches exactly one character, so `prod/db` never matches
    `prod/db-old`.
    """
    return f"arn:{PARTITION}:secretsmanager:{region}:{account_id}:secret:{secret_name}-??????"


def secretsmanager_service(region: str) -> str:
    return f"secretsmanager.{region}.amazonaws.com"


def _document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": [dict(statement) for statement in statements]}


def _deny_unless(condition_key: str, allowed: str | list[str], sid: str, *, security_account: str) -> dict[str, Any]:
    """Deny every Secrets Manager action to callers outside `allowed`.

    AWS services calling with their own service principal carry no account or organization,
    so `aws:PrincipalIsAWSService` (BoolIfExists: absent means "not a service") exempts them;
    services acting for a principal (forward access sessions) carry that principal's account
    and organization, and are judged like it.

    The security account's own principals are exempt from every deny (break-glass): a wrong
    `organization_id` would otherwise deny its administrators and the deployment
    PutResourcePolicy on every secret, and only the account root could repair the policies.
    Both keys sit in one `StringNotEquals` block, so the statement denies only callers that are
    outside `allowed` AND outside the security account (keys in one block are ANDed:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).
    """
    not_equals: dict[str, Any] = {condition_key: allowed}
    if condition_key != "aws:PrincipalAccount":
        not_equals["aws:PrincipalAccount"] = security_account
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "secretsmanager:*",
        "Resource": "*",
        "Condition": {
            "StringNotEquals": not_equals,
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }


def reader_principals(roles: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`Principal` and the role pin for (account ID, role) pairs: accounts in Principal, roles in
    an `ArnEquals aws:PrincipalArn` condition (see the module docstring for why)."""
    pairs = list(roles)
    return {
        "Principal": {"AWS": one_or_many(account_root_arn(account) for account, _ in pairs)},
        "ArnEquals": {"aws:PrincipalArn": one_or_many(role_arn(account, role) for account, role in pairs)},
    }


def stage_condition(stages: Sequence[str]) -> dict[str, Any]:
    """Which GetSecretValue requests a reader's `stages` allow.

    `secretsmanager:VersionStage` is in the request context only when the caller passes
    VersionStage (Service Authorization Reference, Secrets Manager, GetSecretValue condition
    keys: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html).
    Readers that read the current value must be allowed without it: aws-secretsmanager-caching
    calls GetSecretValue with VersionId only (src/aws_secretsmanager_caching/cache/items.py,
    SecretCacheVersion._execute_refresh), ECS `secrets` with a plain secret ARN passes neither
    (amazon-ecs-agent agent/taskresource/asmsecret/asmsecret.go, getASMParametersFromInput), and
    CloudFormation dynamic references and the Parameters and Secrets Lambda Extension pass a
    stage or a version ID only when the template or the caller names one.

    So with AWSCURRENT among the stages the condition is `StringEqualsIfExists`: no stage (the
    service answers AWSCURRENT) and VersionId alone are allowed, a named stage must be one of
    the reader's. `...IfExists` is true when the key is absent
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists).
    The stage limit therefore binds requests by stage name only: a request by VersionId alone
    names no stage, and reads whichever version the ID is, a rotation's AWSPENDING version
    included (IAM has no condition key for the stage of a version asked for by ID). Nothing here
    hides AWSPENDING from such a reader; it keeps readers that ask by stage on their stages.
    Without AWSCURRENT (e.g. only AWSPREVIOUS) the stage must be named (`StringEquals`): a
    request without a stage would return the current value, which the reader was not given, and
    a VersionId alone is denied with it.

    An Allow, not a Deny of AWSPENDING: a Deny in the resource policy would also bind the
    rotation functions, which read AWSPENDING by stage during every rotation.
    """
    operator = "StringEqualsIfExists" if CURRENT_STAGE in stages else "StringEquals"
    return {operator: {"secretsmanager:VersionStage": one_or_many(stages)}}


def secret_resource_policy(
    *,
    readers: Sequence[ReaderGrant],
    security_account: str,
    environment_account_ids: Iterable[str],
    organization_id: str | None = None,
) -> dict[str, Any]:
    """The resource policy of a secret in the security account.

    - one Allow per reader entry: GetSecretValue for its account, pinned to its roles by
      `aws:PrincipalArn`, for the requests its stages allow (`stage_condition`);
    - one Allow of DescribeSecret, without a stage condition, for all reader roles: a
      DescribeSecret request never carries VersionStage, and the caching library calls it to
      find the version ID of AWSCURRENT;
    - Deny outside the organization (when organization_id is set) and Deny outside the
      environment's accounts plus the security account, as two statements: conditions inside
      one statement are ANDed, and each deny must hold on its own (OR). Neither binds the
      security account's principals (`_deny_unless`).

    Resource "*" means "this secret" in a resource policy.
    """
    statements: list[dict[str, Any]] = []
    seen_sids: dict[str, int] = {}
    for reader in readers:
        sid = statement_id("Read", reader.account_name)
        seen_sids[sid] = seen_sids.get(sid, 0) + 1
        if seen_sids[sid] > 1:
            sid = f"{sid}{seen_sids[sid]}"
        pinned = reader_principals((reader.account_id, role) for role in reader.roles)
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": pinned["Principal"],
                "Action": SECRET_READ_ACTION,
                "Resource": "*",
                "Condition": {"ArnEquals": pinned["ArnEquals"], **stage_condition(reader.stages)},
            }
        )
    reader_roles = [(reader.account_id, role) for reader in readers for role in reader.roles]
    if reader_roles:
        pinned = reader_principals(reader_roles)
        statements.append(
            {
                "Sid": "DescribeForReaders",
                "Effect": "Allow",
                "Principal": pinned["Principal"],
                "Action": SECRET_DESCRIBE_ACTION,
                "Resource": "*",
                "Condition": {"ArnEquals": pinned["ArnEquals"]},
            }
        )
    if organization_id:
        statements.append(
            _deny_unless(
                "aws:PrincipalOrgID", organization_id, "DenyOutsideOrganization", security_account=security_account
            )
        )
    allowed_accounts = one_or_many([security_account, *environment_account_ids])
    statements.append(
        _deny_unless(
            "aws:PrincipalAccount", allowed_accounts, "DenyOutsideEnvironmentAccounts", security_account=security_account
        )
    )
    return _document(statements)


def reader_grants(declaration: Declaration, secret: Secret) -> list[ReaderGrant]:
    """The secret's readers with their account IDs resolved from `accounts:`."""
    return [
        ReaderGrant(
            account_name=reader.account,
            account_id=declaration.account_id(reader.account),
            roles=tuple(reader.roles),
            stages=tuple(reader.stages),
        )
        for reader in secret.readers
    ]


def secret_policy_for(declaration: Declaration, secret: Secret) -> dict[str, Any]:
    """`secret_resource_policy` for one secret of a declaration."""
    return secret_resource_policy(
        readers=reader_grants(declaration, secret),
        security_account=declaration.security_account,
        environment_account_ids=[account.id for account in declaration.accounts.values()],
        organization_id=declaration.organization_id,
    )


def reader_account_ids(declaration: Declaration) -> list[str]:
    """Accounts that read at least one secret of the declaration, sorted."""
    return sorted({declaration.account_id(reader.account) for secret in declaration.secrets for reader in secret.readers})


def reader_roles(declaration: Declaration) -> list[tuple[str, str]]:
    """(account ID, role) of every reader role of the declaration, sorted, without duplicates."""
    return sorted(
        {
            (declaration.account_id(reader.account), role)
            for secret in declaration.secrets
            for reader in secret.readers
            for role in reader.roles
        }
    )


def kms_key_policy(
    *,
    region: str,
    security_account: str,
    reader_roles: Iterable[tuple[str, str]],
    service_statements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The key policy of the environment's key in one region.

    - the security account's root keeps full control: without it the key cannot be managed
      (or even have its policy fixed) by anyone, and IAM policies in the security account
      (administrators, the deployment, rotation functions) become effective;
    - reader roles may Decrypt/DescribeKey only when the request comes through Secrets
      Manager in this region (kms:ViaService) and from their own account (kms:CallerAccount):
      the key cannot be used directly, and the AWS managed key could not be shared at all.
      Principal names the reader accounts and `aws:PrincipalArn` pins their reader roles, so
      the key policy never names a role that might not exist (module docstring); which
      secrets each role reads is decided by each secret's resource policy;
    - `service_statements`: what other parts of the layout need from the key, e.g. EventBridge
      publishing to an alert topic encrypted with it (components/alerts.py).
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "SecurityAccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": account_root_arn(security_account)},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    roles = sorted(set(reader_roles))
    if roles:
        pinned = reader_principals(roles)
        statements.append(
            {
                "Sid": "ReaderRolesDecryptViaSecretsManager",
                "Effect": "Allow",
                "Principal": pinned["Principal"],
                "Action": list(READER_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "ArnEquals": pinned["ArnEquals"],
                    "StringEquals": {
                        "kms:ViaService": secretsmanager_service(region),
                        "kms:CallerAccount": one_or_many(account for account, _ in roles),
                    },
                },
            }
        )
    statements.extend(dict(statement) for statement in service_statements)
    return _document(statements)


def decrypt_key_resource(*, region: str, security_account: str, key_arn: str | None = None) -> str:
    """How an identity policy names the environment's key of one region for kms:Decrypt.

    IAM matches KMS keys only by key ARN: an alias ARN in `Resource` names the alias, never
    the key behind it, so a Decrypt grant on `alias/...` allows nothing. Hence:
    - a key ARN (`kms.keys` gives one) is used as it is;
    - an alias ARN (`kms.keys` may give one), or no ARN (the key the layout creates, whose ID
      exists only after deployment), becomes every key of that account in that region,
      `arn:aws:kms:<region>:<account>:key/*`.
    The wildcard stays narrow where it matters: the key must also grant the reader's account in
    its key policy (cross-account use needs both sides), and consumer_read_policy allows Decrypt
    only via Secrets Manager, which decrypts only for the secrets the role may read.
    """
    if key_arn is not None:
        parts = key_arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/"):
            return key_arn
        if len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("alias/"):
            return f"arn:{parts[1]}:kms:{parts[3]}:{parts[4]}:key/*"
        raise ValueError(f"not a KMS key or alias ARN: {key_arn}")
    return f"arn:{PARTITION}:kms:{region}:{security_account}:key/*"


def consumer_read_policy(
    *,
    secrets: Mapping[str, Sequence[str]],
    security_account: str,
    kms_key_arns: Iterable[str],
) -> dict[str, Any]:
    """The identity policy a reader role needs in its own account (the consumer side).

    secrets: secret name -> regions it can be read in (primary first, then replicas).
    Cross-account access needs both sides: this policy, and the secret's resource policy.
    """
    resources = sorted(
        secret_arn_pattern(region=region, account_id=security_account, secret_name=name)
        for name, regions in secrets.items()
        for region in regions
    )
    return _document(
        [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": [SECRET_DESCRIBE_ACTION, SECRET_READ_ACTION],
                "Resource": resources[0] if len(resources) == 1 else resources,
            },
            {
                "Sid": "DecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": one_or_many(kms_key_arns),
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
            },
        ]
    )


def reader_identity_policy(declaration: Declaration, secrets: Sequence[Secret]) -> dict[str, Any]:
    """The identity policy a reader role needs to read `secrets` of `declaration`.

    The one document of the consumer side: `secrets-layout consumer-policy` prints it for one
    secret, and ConsumerGrants deploys it for every secret a role reads (accounts with
    `deploy_role_arn`), so the printed and the deployed grant never differ. Least privilege: each
    secret in its own regions (primary and replicas), and kms:Decrypt on the keys of those regions
    only, named as `decrypt_key_resource` names them: a key given in `kms.keys` by its ARN, a key
    the layout creates as `key/*` of that region, because its ID exists only after deployment and
    the printed policy must be written before it (the wildcard opens no key of its own: see
    `decrypt_key_resource`).
    """
    regions_by_secret = {secret.name: secret_regions(secret, declaration.primary_region) for secret in secrets}
    key_resources = [
        decrypt_key_resource(
            region=region, security_account=declaration.security_account, key_arn=declaration.kms.keys.get(region)
        )
        for regions in regions_by_secret.values()
        for region in regions
    ]
    return consumer_read_policy(
        secrets=regions_by_secret, security_account=declaration.security_account, kms_key_arns=key_resources
    )


def consumer_grant_policies(declaration: Declaration, account_name: str) -> dict[str, dict[str, Any]]:
    """Reader role (as declared: `Name` or `path/Name`) of one account -> `reader_identity_policy` of
    the secrets it reads, in the declaration's order. Empty when the account reads nothing."""
    secrets_by_role: dict[str, list[Secret]] = {}
    for secret in declaration.secrets:
        for reader in secret.readers:
            if reader.account != account_name:
                continue
            for role in reader.roles:
                read = secrets_by_role.setdefault(role, [])
                if secret not in read:
                    read.append(secret)
    return {role: reader_identity_policy(declaration, secrets) for role, secrets in secrets_by_role.items()}


def lambda_assume_role_policy() -> dict[str, Any]:
    """Trust policy of a rotation function's role: only the Lambda service assumes it."""
    return _document(
        [
            {
                "Sid": "LambdaAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def rotation_function_arn(*, function_name: str, region: str, security_account: str) -> str:
    return f"arn:{PARTITION}:lambda:{region}:{security_account}:function:{function_name}"


def replica_keys_statement(
    *, primary_region: str, security_account: str, kms_key_arns: Mapping[str, str]
) -> dict[str, Any] | None:
    """What a rotation function needs so that its new values reach the replicas (None: no replicas).

    When a rotation function puts a new value (PutSecretValue on the primary), Secrets Manager
    replicates it: it decrypts with the primary's key and re-encrypts with each replica's key,
    with the caller's own identity through a forward access session unless a replication role
    is given ("How Secrets Manager authorizes cross-account replication":
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/cross-account-replicate-permissions.html,
    and ReplicateSecretToRegions: kms:GenerateDataKey and kms:Encrypt on the replica's key,
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html).
    Without this the primary rotates and the replicas keep the old value (replication fails).

    Scoped to requests made by Secrets Manager (kms:ViaService) of any of the environment's
    regions: the documentation does not say whether the replica key is called through the
    primary's or the replica's regional endpoint, so both are listed, and a key is only ever
    usable in its own region anyway. No kms:EncryptionContext:SecretARN here: the encryption
    context of the replication's Encrypt call is not documented, and a guess that is wrong would
    silently stop replication.
    """
    replica_regions = sorted(region for region in kms_key_arns if region != primary_region)
    if not replica_regions:
        return None
    return {
        "Sid": "ReencryptReplicasViaSecretsManager",
        "Effect": "Allow",
        "Action": list(REPLICA_KEY_ACTIONS),
        "Resource": one_or_many(
            decrypt_key_resource(region=region, security_account=security_account, key_arn=kms_key_arns[region])
            for region in replica_regions
        ),
        "Condition": {
            "StringEquals": {"kms:ViaService": one_or_many(secretsmanager_service(region) for region in kms_key_arns)}
        },
    }


def replica_keys_policy(
    *, primary_region: str, security_account: str, kms_key_arns: Mapping[str, str]
) -> dict[str, Any] | None:
    """`replica_keys_statement` as a policy document, for the roles the AWS rotation apps create
    (their template grants only the primary's key, `kmsKeyArn`). None when there are no replicas."""
    statement = replica_keys_statement(
        primary_region=primary_region, security_account=security_account, kms_key_arns=kms_key_arns
    )
    return _document([statement]) if statement else None


def rotation_function_policy(
    *,
    function_name: str,
    region: str,
    security_account: str,
    kms_key_arns: Mapping[str, str],
) -> dict[str, Any]:
    """Least privilege for a rotation function of this layout.

    kms_key_arns: region -> the environment's key there (`region` is the primary).

    Exactly the secrets that name this function as their rotation function
    (`secretsmanager:resource/AllowRotationLambdaArn`, which only RotateSecret can change),
    random values from Secrets Manager, the primary's key only through Secrets Manager and only
    for this account's secrets of the primary region (kms:EncryptionContext:SecretARN, as in
    "Lambda rotation function execution role permissions", Policy statement for customer managed
    key: https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html),
    and the replicas' keys for re-encrypting each new value (`replica_keys_statement`).
    The size stays the same whatever the number of secrets: a list of secret ARNs would outgrow
    IAM's 10,240 characters of inline policy per role at about a hundred secrets.
    """
    function_arn = rotation_function_arn(function_name=function_name, region=region, security_account=security_account)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "RotateItsSecrets",
            "Effect": "Allow",
            "Action": list(ROTATION_SECRET_ACTIONS),
            "Resource": f"arn:{PARTITION}:secretsmanager:{region}:{security_account}:secret:*",
            "Condition": {"ArnEquals": {"secretsmanager:resource/AllowRotationLambdaArn": function_arn}},
        },
        {
            "Sid": "GenerateRandomValues",
            "Effect": "Allow",
            "Action": "secretsmanager:GetRandomPassword",
            "Resource": "*",
        },
        {
            "Sid": "UsePrimaryKeyViaSecretsManager",
            "Effect": "Allow",
            "Action": list(ROTATION_KEY_ACTIONS),
            "Resource": decrypt_key_resource(
                region=region, security_account=security_account, key_arn=kms_key_arns.get(region)
            ),
            "Condition": {
                "StringEquals": {"kms:ViaService": secretsmanager_service(region)},
                "StringLike": {
                    "kms:EncryptionContext:SecretARN": f"arn:{PARTITION}:secretsmanager:{region}:{security_account}:secret:*"
                },
            },
        },
    ]
    replicas = replica_keys_statement(primary_region=region, security_account=security_account, kms_key_arns=kms_key_arns)
    if replicas:
        statements.append(replicas)
    return _document(statements)
