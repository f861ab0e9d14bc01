"""Who may read a secret, by its resource policy: secret-policy-no-public-access,
secret-policy-allowed-accounts and secret-policy-deny-outside.

The policy is a SecretPolicy's ``policy``, a Secret's inline ``policy`` (pulumi-aws), or an aws-native
ResourcePolicy's ``resourcePolicy``.
"""

from __future__ import annotations

from typing import Any, List, Mapping

from ..definition import ADVISORY, MANDATORY, PolicyDefinition
from ..findings import CannotCheck, Finding, NotApplicable
from ..resource_policy import SECRET_POLICY_LIMITING_KEYS, allow_principal_accounts, find_deny_outside, public_grants
from ..resources import SECRET, SECRET_POLICIES, Resource, is_unknown
from .documents import Document, has_resource_policy, policy_document
from .schemas import ACCOUNTS

POLICY_TYPES = (*SECRET_POLICIES, SECRET)
_WHAT = "resource policy"


def _document(resource: Resource) -> "Document | None":
    """The resource policy to judge, or None: a Secret without an inline policy has none."""
    if not has_resource_policy(resource):
        return None
    return policy_document(resource, _WHAT, required=resource.type != SECRET)


def _unjudged(document: "Document | None") -> "List[Finding] | None":
    """What a check returns when there are no statements to judge: nothing, or the unreadable document's finding."""
    if document is None:
        return []
    return [document.unreadable] if document.unreadable else None


def check_no_public_access(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    findings = []
    block_unknown = False
    if resource.type != SECRET:
        block = resource.props.get("blockPublicPolicy")
        if is_unknown(block):
            block_unknown = True
        elif block is not True:
            findings.append(Finding(
                ("blockPublicPolicy",), "block_public_policy is not true.",
                "With it, Secrets Manager itself rejects any policy that would make the secret public, a second "
                "check independent of this pack.", f"Set block_public_policy=True on the {resource.type.rsplit(':', 1)[-1]}."))
    try:
        document = _document(resource)
    except CannotCheck:
        if findings:
            return findings
        raise
    unjudged = _unjudged(document)
    if unjudged is not None:
        return findings + unjudged
    for statement, reason in public_grants(document.statements, SECRET_POLICY_LIMITING_KEYS):
        actions = ", ".join(statement.actions or statement.not_actions) or "every action"
        findings.append(Finding(
            document.statement_path(statement),
            f"{statement.label} allows {actions} to everyone: {reason}, and no condition limits the caller to the "
            "organization or to named accounts, or the request to fixed sources.",
            "A public secret policy lets any AWS account read the secret.",
            "Name the reader roles in Principal, or add a Condition with StringEquals on aws:PrincipalOrgID or "
            "aws:PrincipalAccount (who calls), or on aws:SourceAccount, aws:SourceArn, aws:SourceVpc or "
            "aws:SourceVpce (the fixed sources Secrets Manager accepts as not public), to the statement."))
    if block_unknown and not findings:
        raise CannotCheck("block_public_policy is computed from another resource's output")
    return findings


def check_allowed_accounts(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    allowed = config.get("allowedAccounts")
    if not allowed:
        raise NotApplicable('the config key "allowedAccounts" is missing (the 12-digit accounts of this environment '
                            "and the security account), so principals cannot be checked")
    document = _document(resource)
    unjudged = _unjudged(document)
    if unjudged is not None:
        return unjudged
    found = allow_principal_accounts(document.statements)
    allowed_text = ", ".join(str(a) for a in allowed)
    findings = []
    for account, where in found.accounts.items():
        if account not in allowed:
            findings.append(Finding(
                (document.field,), f"{where[0]} allows account {account}, which is not one of the allowed accounts "
                                   f"({allowed_text}).",
                "A grant to another environment's or an unknown account lets it read credentials it must not have.",
                'Remove that principal, or add the account to "allowedAccounts" in the policy pack config if it '
                "belongs to this environment.", account=account))
    for principal in found.unreadable:
        findings.append(Finding(
            (document.field,), f'The principal "{principal}" has no literal 12-digit account (it is a unique ID or a '
                               "pattern), so it cannot be checked against the allowed accounts.",
            fix="Use role ARNs such as arn:aws:iam::<account>:role/<Role>."))
    return findings


def check_deny_outside(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    document = _document(resource)
    unjudged = _unjudged(document)
    if unjudged is not None:
        return unjudged
    statement, notes = find_deny_outside(document.statements)
    if statement is not None:
        return []
    detail = f" ({'; '.join(notes)})" if notes else ""
    return [Finding(
        (document.field,), f"The resource policy has no explicit Deny for principals outside the organization or the "
                           f"allowed accounts{detail}.",
        "Without it, one wrong Allow statement grants the secret to any account.",
        'Add {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": '
        '{"StringNotEquals": {"aws:PrincipalOrgID": "o-..."}}} (or aws:PrincipalAccount with the allowed '
        "accounts).")]


SECRET_POLICY_NO_PUBLIC_ACCESS = PolicyDefinition(
    name="secret-policy-no-public-access",
    description="Secret resource policies never allow everyone unless a condition limits the caller (organization, "
                "account, principal) or the request to the fixed sources Secrets Manager accepts (aws:SourceAccount, "
                "aws:SourceArn, aws:SourceVpc, aws:SourceVpce); block_public_policy is true.",
    level=MANDATORY, resource_types=POLICY_TYPES, check=check_no_public_access)

SECRET_POLICY_ALLOWED_ACCOUNTS = PolicyDefinition(
    name="secret-policy-allowed-accounts",
    description="Secret resource policies only grant to principals of the allowed accounts.",
    level=MANDATORY, resource_types=POLICY_TYPES, check=check_allowed_accounts, config={"allowedAccounts": ACCOUNTS})

SECRET_POLICY_DENY_OUTSIDE = PolicyDefinition(
    name="secret-policy-deny-outside",
    description="Secret resource policies explicitly deny principals outside the organization or the allowed accounts.",
    level=ADVISORY, resource_types=POLICY_TYPES, check=check_deny_outside)
