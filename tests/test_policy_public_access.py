"""Which key and secret policies are public, judged by the pack and by an outside IAM evaluator.

kms-key-policy-no-public-access: a statement that grants everyone ("*", {"AWS": "*"}, any account,
NotPrincipal) is public unless a condition limits who calls: the organization (aws:PrincipalOrgID,
aws:PrincipalOrgPaths), accounts (aws:PrincipalAccount, kms:CallerAccount) or principals
(aws:PrincipalArn), with an equality operator and a literal value (KMS Developer Guide, "Default key
policy" and "Allowing users in other accounts to use a KMS key"; IAM JSON policy reference, "Condition
operators": an ...IfExists operator is true when the key is absent, and aws:PrincipalOrgID is absent for
callers outside any organization).

secret-policy-no-public-access agrees with Secrets Manager's BlockPublicPolicy: "the resource-based
policy must only grant access to one or more of the following fixed values: aws:SourceArn,
aws:SourceVpc, aws:SourceVpce, aws:SourceAccount" (Secrets Manager User Guide, "Resource-based
policies"), besides the caller conditions above.

The outside model: principalmapper (tests/iam_evaluator.py) evaluates each policy for strangers (a role
of another account outside any organization, and one in another organization) with a full identity
policy, sending every context key a stranger can choose or always has. "Public" means the evaluator lets
a stranger in; the pack must say the same, case by case.
"""

from __future__ import annotations

import json

import pytest

from iam_evaluator import allowed, role
from secrets_layout.policies.checks import access, keys
from secrets_layout.policies.resources import KMS_KEY, KMS_KEY_POLICY, KMS_REPLICA_KEY, SECRET_POLICY, Resource

OWN = "111111111111"
ORG = "o-a1b2c3d4e5"
KEY = f"arn:aws:kms:us-east-1:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:us-east-1:{OWN}:secret:prod/orders/db-AbCdEf"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# A stranger names its own roles, so one of them is called what a pattern asks for.
STRANGER_ROLES = (role("arn:aws:iam::999999999999:role/Stranger", [EVERYTHING]),
                  role("arn:aws:iam::999999999999:role/Admin", [EVERYTHING]))
WHAT_A_STRANGER_SENDS = {"aws:SecureTransport": "true", "kms:CallerAccount": "999999999999",
                         "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
STRANGERS = (
    WHAT_A_STRANGER_SENDS,                                        # outside any organization
    {**WHAT_A_STRANGER_SENDS, "aws:PrincipalOrgID": "o-zzzzzzzzzz",  # in an organization of its own
     "aws:PrincipalOrgPaths": "o-zzzzzzzzzz/r-zz99/ou-zz99-99999999/"},
)


def statement(principal=None, condition=None, *, action="kms:Decrypt", not_principal=None):
    found = {"Sid": "Grant", "Effect": "Allow", "Action": action, "Resource": "*"}
    if not_principal is not None:
        found["NotPrincipal"] = not_principal
    else:
        found["Principal"] = principal if principal is not None else "*"
    if condition is not None:
        found["Condition"] = condition
    return found


# (case id, statement's principal, condition): the grant is to everyone unless the principal says otherwise
KEY_CASES = [
    ("no condition", "*", None),
    ("AWS *, no condition", {"AWS": "*"}, None),
    ("any account's root", {"AWS": "arn:aws:iam::*:root"}, None),
    ("NotPrincipal", None, None),
    ("our account's root", {"AWS": f"arn:aws:iam::{OWN}:root"}, None),
    ("organization", "*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}),
    ("organization, StringLike with a literal", "*", {"StringLike": {"aws:PrincipalOrgID": ORG}}),
    ("organization path", "*", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/*"}}),
    ("account", "*", {"StringEquals": {"aws:PrincipalAccount": OWN}}),
    ("caller account with Secrets Manager", "*", {"StringEquals": {"kms:CallerAccount": OWN,
                                                                    "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}),
    ("principal ARN", "*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/*"}}),
    ("secure transport only", "*", {"Bool": {"aws:SecureTransport": "true"}}),
    ("Secrets Manager only", "*", {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}),
    ("organization if it exists", "*", {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}}),
    ("any organization", "*", {"StringLike": {"aws:PrincipalOrgID": "*"}}),
    ("any account like", "*", {"StringLike": {"aws:PrincipalAccount": "*"}}),
    ("principal ARN of any account", "*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}),
    ("not our organization", "*", {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}),
    ("all org paths", "*", {"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}}),
]


def _document(entry):
    case, principal, condition = entry
    if case == "NotPrincipal":
        return {"Version": "2012-10-17", "Statement": [statement(not_principal={"AWS": f"arn:aws:iam::{OWN}:root"})]}
    return {"Version": "2012-10-17", "Statement": [statement(principal, condition)]}


def a_stranger_gets_in(document, action, resource):
    return any(allowed(stranger, action, resource, context=context, resource_policy=document)
               for stranger in STRANGER_ROLES for context in STRANGERS)


STRICTER_THAN_THE_EVALUATOR = {
    # IAM refuses the policy itself ("You cannot use a wildcard to match part of a principal name or ARN",
    # IAM JSON policy elements: Principal), so no stranger gets in; the pack reports it as the public grant
    # it was meant to be, before the deployment fails on it.
    "any account's root",
}


def public_for_the_evaluator(case, document, action, resource):
    return True if case in STRICTER_THAN_THE_EVALUATOR else a_stranger_gets_in(document, action, resource)


@pytest.mark.parametrize("entry", KEY_CASES, ids=[case[0] for case in KEY_CASES])
def test_a_key_policy_is_public_exactly_when_a_stranger_can_decrypt(entry):
    document = _document(entry)
    public = public_for_the_evaluator(entry[0], document, "kms:Decrypt", KEY)
    findings = keys.check_kms_key_policy(Resource(KMS_KEY, {"policy": json.dumps(document)}), {})
    assert bool(findings) is public
    if public:
        [finding] = findings
        assert finding.path == ("policy", "Statement", 0)
        assert "and no condition limits who calls" in finding.what


@pytest.mark.parametrize("resource_type, field", [(KMS_KEY_POLICY, "policy"), (KMS_REPLICA_KEY, "policy")])
def test_the_same_rule_judges_a_separate_key_policy_and_a_replica_key(resource_type, field):
    public = {"Statement": [statement("*", {"Bool": {"aws:SecureTransport": "true"}})]}
    limited = {"Statement": [statement("*", {"StringEquals": {"kms:CallerAccount": OWN}})]}
    assert len(keys.check_kms_key_policy(Resource(resource_type, {field: json.dumps(public)}), {})) == 1
    assert keys.check_kms_key_policy(Resource(resource_type, {field: json.dumps(limited)}), {}) == []


# Secrets Manager's own fixed sources count too; a stranger sends none of ours.
SECRET_CASES = [
    *[(case, principal, condition) for case, principal, condition in KEY_CASES
      if not (condition and "kms:CallerAccount" in json.dumps(condition))],
    ("source account", "*", {"StringEquals": {"aws:SourceAccount": OWN}}),
    ("source ARN", "*", {"ArnEquals": {"aws:SourceArn": f"arn:aws:lambda:us-east-1:{OWN}:function:rotator"}}),
    ("source VPC", "*", {"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d"}}),
    ("source VPC endpoint", "*", {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f"}}),
    ("source account if it exists", "*", {"StringEqualsIfExists": {"aws:SourceAccount": OWN}}),
]


@pytest.mark.parametrize("entry", SECRET_CASES, ids=[case[0] for case in SECRET_CASES])
def test_a_secret_policy_is_public_exactly_when_a_stranger_can_read(entry):
    document = _document(entry)
    for item in document["Statement"]:
        item["Action"] = "secretsmanager:GetSecretValue"
    public = public_for_the_evaluator(entry[0], document, "secretsmanager:GetSecretValue", SECRET)
    resource = Resource(SECRET_POLICY, {"policy": json.dumps(document), "blockPublicPolicy": True})
    findings = access.check_no_public_access(resource, {})
    assert bool(findings) is public
    if public:
        assert findings[0].path == ("policy", "Statement", 0)


def test_the_evaluator_lets_nobody_in_through_a_wildcard_account_principal():
    """Held apart from the tables: the one case where the pack is stricter than the evaluator, and why."""
    document = _document(next(case for case in KEY_CASES if case[0] == "any account's root"))
    assert not a_stranger_gets_in(document, "kms:Decrypt", KEY)


def test_a_policy_secrets_manager_accepts_is_not_blocked():
    """The issue's case: `*` limited by aws:SourceVpce is what AWS's BlockPublicPolicy accepts."""
    document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
                               "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}}]}
    resource = Resource(SECRET_POLICY, {"policy": json.dumps(document), "blockPublicPolicy": True})
    assert access.check_no_public_access(resource, {}) == []
