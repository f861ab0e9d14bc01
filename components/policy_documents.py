"""The policy documents of the layout, as pure functions returning plain dicts.

Nothing here touches Pulumi: every function takes names, account IDs and ARNs and returns
an IAM policy document, so each one is tested with exact JSON (tests/test_policy_documents*.py)
and reused by anyone who needs the same document (the CLI's `consumer-policy`, other programs).

Conventions, so that `pulumi refresh` shows no drift: a list with one element is written as
that element (AWS stores it that way), values are sorted where order has no meaning, and
Sids are letters and digits only (IAM's rule).

A consequence to keep in mind: AWS rejects a resource policy that names a principal which does
not exist (MalformedPolicyDocumentException), so every reader role must exist before the
policy is deployed. If a reader role is deleted and recreated later, AWS shows its old unique
ID in place of the ARN and the new role has no access until the next `pulumi up` rewrites the
policy (refresh shows the drift).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secrets_layout.models import Declaration, Secret

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


def _deny_unless(condition_key: str, allowed: str | list[str], sid: str) -> dict[str, Any]:
    """Deny every Secrets Manager action to callers outside `allowed`.

    AWS services calling with their own service principal carry no account or organization,
    so `aws:PrincipalIsAWSService` (BoolIfExists: absent means "not a service") exempts them;
    services acting for a principal (forward access sessions) carry that principal's account
    and organization, and are judged like it. The security account is always inside the
    allowed set, so its administrators, the deployment and the rotation functions keep access.
    """
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "secretsmanager:*",
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {condition_key: allowed},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }


def secret_resource_policy(
    *,
    readers: Sequence[ReaderGrant],
    security_account: str,
    environment_account_ids: Iterable[str],
    organization_id: str | None = None,
) -> dict[str, Any]:
    """The resource policy of a secret in the security account.

    - one Allow per reader entry: GetSecretValue for its roles, only for the listed version
      stages. `secretsmanager:VersionStage` exists only on GetSecretValue requests and only
      when the caller passes VersionStage (an SDK call without it is denied even though the
      service answers AWSCURRENT by default), so readers must request the stage explicitly;
    - one Allow of DescribeSecret, unconditioned, for all reader roles: a DescribeSecret
      request never carries VersionStage, so the stage condition would deny it;
    - Deny outside the organization (when organization_id is set) and Deny outside the
      environment's accounts plus the security account, as two statements: conditions inside
      one statement are ANDed, and each deny must hold on its own (OR).

    Resource "*" means "this secret" in a resource policy.
    """
    statements: list[dict[str, Any]] = []
    seen_sids: dict[str, int] = {}
    for reader in readers:
        sid = statement_id("Read", reader.account_name)
        seen_sids[sid] = seen_sids.get(sid, 0) + 1
        if seen_sids[sid] > 1:
            sid = f"{sid}{seen_sids[sid]}"
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": one_or_many(role_arn(reader.account_id, role) for role in reader.roles)},
                "Action": SECRET_READ_ACTION,
                "Resource": "*",
                "Condition": {"StringEquals": {"secretsmanager:VersionStage": one_or_many(reader.stages)}},
            }
        )
    reader_roles = [role_arn(reader.account_id, role) for reader in readers for role in reader.roles]
    if reader_roles:
        statements.append(
            {
                "Sid": "DescribeForReaders",
                "Effect": "Allow",
                "Principal": {"AWS": one_or_many(reader_roles)},
                "Action": SECRET_DESCRIBE_ACTION,
                "Resource": "*",
            }
        )
    if organization_id:
        statements.append(_deny_unless("aws:PrincipalOrgID", organization_id, "DenyOutsideOrganization"))
    allowed_accounts = one_or_many([security_account, *environment_account_ids])
    statements.append(_deny_unless("aws:PrincipalAccount", allowed_accounts, "DenyOutsideEnvironmentAccounts"))
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


def kms_key_policy(*, region: str, security_account: str, reader_account_ids: Iterable[str]) -> dict[str, Any]:
    """The key policy of the environment's key in one region.

    - the security account's root keeps full control: without it the key cannot be managed
      (or even have its policy fixed) by anyone, and IAM policies in the security account
      (administrators, the deployment, rotation functions) become effective;
    - reader accounts may Decrypt/DescribeKey only when the request comes through Secrets
      Manager in this region (kms:ViaService) and from their own account (kms:CallerAccount):
      the key cannot be used directly, and the AWS managed key could not be shared at all.
      The principals are account roots so the key policy never names a role that might not
      exist; which roles may read is decided by each secret's resource policy.
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
    readers = sorted(set(reader_account_ids))
    if readers:
        statements.append(
            {
                "Sid": "ReaderAccountsDecryptViaSecretsManager",
                "Effect": "Allow",
                "Principal": {"AWS": one_or_many(account_root_arn(account) for account in readers)},
                "Action": list(READER_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": secretsmanager_service(region),
                        "kms:CallerAccount": one_or_many(readers),
                    }
                },
            }
        )
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


def rotation_function_policy(
    *,
    function_name: str,
    region: str,
    security_account: str,
    kms_key_arns: Iterable[str],
) -> dict[str, Any]:
    """Least privilege for a rotation function of this layout.

    Exactly the secrets that name this function as their rotation function
    (`secretsmanager:resource/AllowRotationLambdaArn`, which only RotateSecret can change),
    random values from Secrets Manager, and the environment's keys only through Secrets
    Manager. The size stays the same whatever the number of secrets: a list of secret ARNs
    would outgrow IAM's 10,240 characters of inline policy per role at about a hundred secrets.
    """
    function_arn = rotation_function_arn(function_name=function_name, region=region, security_account=security_account)
    return _document(
        [
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
                "Sid": "UseKeysViaSecretsManager",
                "Effect": "Allow",
                "Action": list(ROTATION_KEY_ACTIONS),
                "Resource": one_or_many(kms_key_arns),
                "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
            },
        ]
    )
