"""The KMS keys that protect secrets: secret-customer-managed-key, secret-replica-customer-managed-key,
kms-key-rotation-enabled, kms-key-policy-no-public-access and kms-key-not-pending-deletion."""

from __future__ import annotations

from typing import Any, List, Mapping, Sequence

from ..definition import MANDATORY, PolicyDefinition, StackVerdict
from ..findings import CannotCheck, Finding, NotApplicable
from ..resource_policy import KEY_POLICY_CALLER_KEYS, public_grants
from ..resources import (
    KEY_POLICY_HOLDERS,
    KEY_SPEC_INPUT,
    KMS_KEYS,
    POLICY_DOCUMENT_INPUT,
    ROTATABLE_KEYS,
    SECRETS,
    Resource,
    input_label,
    is_aws_managed_key,
    is_unknown,
    key_region,
    resource_region,
    secret_shape,
)
from .documents import policy_document

_CMK_WHY = ("The AWS managed key's policy cannot be changed, so reader roles in other accounts can never decrypt "
            "the secret and the security team cannot control or audit who uses the key.")
_REGION_WHY = "A KMS key only encrypts in its own region, so each region needs its own key."


# A kms_key_id that is unknown during a preview is decided, not skipped ("unknown key" below): only a
# resource of this stack being created (or replaced) leaves it unknown, and no program can create an
# AWS managed key: AWS creates those itself, and the alias/aws/ prefix is reserved
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html: "The alias name cannot
# begin with alias/aws/"). So the key is customer managed. `pulumi up` runs the pack again with the
# value known, so a contrived program that computes an AWS managed key name is still caught there.
def check_customer_managed_key(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    key = resource.props.get("kmsKeyId")
    if is_unknown(key):
        return []  # an unknown key: created by this stack, so customer managed (comment above)
    fix = "Set kms_key_id to the ARN of a customer managed KMS key (aws.kms.Key) in the secret's region."
    path = ("kmsKeyId",)
    if not key:
        return [Finding(path, "The secret has no kms_key_id, so AWS encrypts it with the AWS managed key "
                              "aws/secretsmanager.", _CMK_WHY, fix)]
    if is_aws_managed_key(str(key)):
        return [Finding(path, f'kms_key_id "{key}" is the AWS managed key.', _CMK_WHY, fix)]
    return _key_in_region(str(key), resource)


def _key_in_region(key: str, secret: Resource) -> List[Finding]:
    """The secret's own key must be in the secret's region (its ``region`` input under pulumi-aws 7, else
    its provider's), as each replica's key must be in the replica's: CreateSecret encrypts with the key
    in the secret's region (KMS keys are regional; "Key ARN" in the KMS Developer Guide, "Key identifiers")."""
    region = key_region(key)
    if region is None:
        return []  # a key ID or alias: resolved in the secret's own region
    secret_region = resource_region(secret)
    if secret_region is None:
        return []
    if is_unknown(secret_region):
        raise CannotCheck("the secret's region is computed from another resource's output")
    if region == secret_region:
        return []
    return [Finding(("kmsKeyId",), f'kms_key_id "{key}" is a key of region {region}, but the secret is in '
                                   f"{secret_region}.", _REGION_WHY,
                    f"Set kms_key_id to a customer managed key (or a multi-Region replica key) in {secret_region}.")]


def check_replica_keys(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    field = secret_shape(resource).replicas
    replicas = resource.props.get(field)
    if is_unknown(replicas):
        raise CannotCheck("the replicas are computed from another resource's output")
    findings, unknown = [], []
    for index, replica in enumerate(replicas or []):
        if is_unknown(replica) or not isinstance(replica, Mapping):
            unknown.append(input_label((field, index)))
            continue
        region, key = replica.get("region"), replica.get("kmsKeyId")
        if is_unknown(key):
            # An unknown key: created by this stack, customer managed (comment above); a key of another region is
            # refused by Secrets Manager itself when the replica is created.
            continue
        # A missing or AWS managed key is wrong in any region: only the region comparison below needs it.
        shown_region = "its region" if is_unknown(region) else region
        where = f"Replica {index}" + ("" if is_unknown(region) else f" ({region})")
        path = (field, index, "kmsKeyId")
        fix = (f"Set {input_label(path)} to a customer managed key (or a multi-Region replica key) in "
               f"{shown_region}.")
        if not key:
            findings.append(Finding(path, f"{where} has no kms_key_id, so AWS encrypts the replica with the AWS "
                                          f"managed key aws/secretsmanager of {shown_region}.", _CMK_WHY, fix))
        elif is_aws_managed_key(str(key)):
            findings.append(Finding(path, f'{where} uses kms_key_id "{key}", the AWS managed key.', _CMK_WHY, fix))
        elif is_unknown(region):
            unknown.append(input_label((field, index, "region")))
        elif key_region(str(key)) not in (None, region):
            findings.append(Finding(path, f'{where} names the key "{key}" of region {key_region(str(key))};',
                                    "a KMS key only encrypts in its own region, so each replica needs its own key.",
                                    fix))
    if unknown and not findings:
        raise CannotCheck(f"{', '.join(unknown)} comes from another resource's output")
    return findings


def check_key_rotation(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    props = resource.props
    spec, usage = props.get(KEY_SPEC_INPUT[resource.type]), props.get("keyUsage")
    if spec not in (None, "SYMMETRIC_DEFAULT") and not is_unknown(spec) or (
            usage not in (None, "ENCRYPT_DECRYPT") and not is_unknown(usage)):
        raise NotApplicable(f"AWS only rotates symmetric encryption keys automatically; this key is "
                            f"{spec or 'SYMMETRIC_DEFAULT'} / {usage or 'ENCRYPT_DECRYPT'}")
    if props.get("customKeyStoreId") and not is_unknown(props.get("customKeyStoreId")):
        raise NotApplicable("AWS does not rotate keys in a custom key store automatically")
    origin = props.get("origin")
    if origin not in (None, "AWS_KMS") and not is_unknown(origin):
        raise NotApplicable(f"AWS only rotates keys with key material of its own automatically; this key's origin "
                            f"is {origin}")
    enabled = props.get("enableKeyRotation")
    if is_unknown(enabled):
        raise CannotCheck("enable_key_rotation is computed from another resource's output")
    if enabled is True:
        return []
    return [Finding(("enableKeyRotation",),
                    "The KMS key does not have automatic key rotation enabled, so the same key material protects the "
                    "secrets for the key's whole life and a leaked or weakened key stays in use.",
                    fix="Set enable_key_rotation=True (AWS then rotates it yearly; rotation_period_in_days can "
                        "shorten that).")]


def check_kms_key_policy(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    """A key policy statement that allows everyone (``"*"``, ``{"AWS": "*"}``, any account, or
    ``NotPrincipal``) unless a condition limits who calls: the organization, accounts or principals, with
    an equality operator and literal values (resource_policy.limits_grant with KEY_POLICY_CALLER_KEYS;
    KMS Developer Guide, "Default key policy" and "Allowing users in other accounts to use a KMS key").
    A condition that does not limit the caller (aws:SecureTransport, kms:ViaService alone, an
    ``...IfExists`` form, a wildcard value) leaves the statement public. No ``policy`` is AWS's default
    key policy, which grants only the account."""
    document_value = resource.props.get(POLICY_DOCUMENT_INPUT[resource.type])
    if document_value is None or (isinstance(document_value, str) and document_value.strip() == ""):
        return []
    document = policy_document(resource, "key policy", required=True)
    assert document is not None
    if document.unreadable:
        return [document.unreadable]
    findings = []
    for statement, reason in public_grants(document.statements, KEY_POLICY_CALLER_KEYS):
        actions = ", ".join(statement.actions or statement.not_actions) or "every action"
        findings.append(Finding(
            document.statement_path(statement),
            f"{statement.label} of the key policy allows {actions} to everyone: {reason}, and no condition limits "
            "who calls.",
            "Whoever may use the key can decrypt every secret it protects, from any AWS account.",
            "Name the principals (the account root arn:aws:iam::<account>:root, or the roles), or add a Condition "
            "with StringEquals on kms:CallerAccount, aws:PrincipalAccount or aws:PrincipalOrgID and a literal value "
            "(an ...IfExists operator, a wildcard or aws:SecureTransport does not limit the caller)."))
    return findings


PENDING_DELETION_STATES = ("PendingDeletion", "PendingReplicaDeletion")


def check_key_not_pending_deletion(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    """``keyState`` PendingDeletion (KMS KeyMetadata.KeyState,
    https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html).  pulumi-aws reports
    ``keyState`` on ExternalKey and ReplicaExternalKey; a key without it, or being created (unknown),
    is not pending deletion."""
    state = resource.props.get("keyState")
    if not isinstance(state, str) or is_unknown(state) or state not in PENDING_DELETION_STATES:
        return []
    return [Finding(("keyState",),
                    f"The KMS key is {state}: KMS deletes it when the waiting period ends, and every secret it "
                    "encrypts becomes unreadable for good (a disabled or pending key already fails every decrypt).",
                    fix="Cancel the deletion (aws kms cancel-key-deletion --key-id <key>, then enable the key), or "
                        "move the secrets to another customer managed key before the deletion date.")]


def check_keys_not_pending_deletion(resources: Sequence[Resource], config: Mapping[str, Any]) -> StackVerdict:
    """kms-key-not-pending-deletion over the stack: ``keyState`` is an output, which only AnalyzeStack
    carries (Analyze sends a resource's inputs)."""
    verdict = StackVerdict()
    for key in (r for r in resources if r.type in KMS_KEYS):
        verdict.findings.extend((key.urn, finding) for finding in check_key_not_pending_deletion(key, config))
    return verdict


SECRET_CUSTOMER_MANAGED_KEY = PolicyDefinition(
    name="secret-customer-managed-key",
    description="Secrets are encrypted with a customer managed KMS key of their own region, not the AWS managed key "
                "aws/secretsmanager.",
    level=MANDATORY, resource_types=SECRETS, check=check_customer_managed_key)

SECRET_REPLICA_CUSTOMER_MANAGED_KEY = PolicyDefinition(
    name="secret-replica-customer-managed-key",
    description="Every replica of a secret names its own customer managed KMS key in the replica's region.",
    level=MANDATORY, resource_types=SECRETS, check=check_replica_keys)

KMS_KEY_ROTATION_ENABLED = PolicyDefinition(
    name="kms-key-rotation-enabled",
    description="KMS keys have automatic key rotation enabled.",
    level=MANDATORY, resource_types=ROTATABLE_KEYS, check=check_key_rotation)

KMS_KEY_POLICY_NO_PUBLIC_ACCESS = PolicyDefinition(
    name="kms-key-policy-no-public-access",
    description="KMS key policies never allow everyone (\"*\", any account or NotPrincipal) unless a condition limits "
                "who calls (aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalAccount, kms:CallerAccount or "
                "aws:PrincipalArn, with an equality operator and a literal value).",
    level=MANDATORY, resource_types=KEY_POLICY_HOLDERS, check=check_kms_key_policy)

KMS_KEY_NOT_PENDING_DELETION = PolicyDefinition(
    name="kms-key-not-pending-deletion",
    description="KMS keys are not pending deletion (a deleted key makes every secret it encrypts unreadable).",
    level=MANDATORY, resource_types=KMS_KEYS, check=check_keys_not_pending_deletion, stack=True,
    not_covered=("aws-native:kms:Key has no keyState output", "aws:kms/key:Key reports no keyState"))
