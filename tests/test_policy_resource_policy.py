"""Resource policy analysis (policies/resource_policy.py): a table of Secrets Manager resource policies
with what the policies must conclude about them."""

from __future__ import annotations

import json

import pytest

from secrets_layout.policies.resource_policy import (
    PolicyDocumentError,
    allow_principal_accounts,
    find_deny_outside,
    parse_policy,
    public_grants,
)

READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
ORG = "o-a1b2c3d4e5"


def allow(principal=None, condition=None, *, not_principal=None, action=READ, sid=None):
    statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
    if sid:
        statement["Sid"] = sid
    if principal is not None:
        statement["Principal"] = principal
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    if condition is not None:
        statement["Condition"] = condition
    return statement


def deny(principal="*", condition=None, *, not_principal=None, action="secretsmanager:*", not_action=None):
    statement = {"Effect": "Deny", "Resource": "*"}
    if not_action is not None:
        statement["NotAction"] = not_action
    else:
        statement["Action"] = action
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    else:
        statement["Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    return statement


def doc(*statements, as_string=True):
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(document) if as_string else document


ROLE_A = "arn:aws:iam::222222222222:role/ProductionAppRole"
DENY_ORG = deny(condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}})

# id, document, public?, accounts granted, explicit deny-outside?
TABLE = [
    ("our-layout-org", doc(allow({"AWS": [ROLE_A]}, {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}),
                           DENY_ORG), False, {"222222222222"}, True),
    ("our-layout-accounts", doc(allow({"AWS": ROLE_A}), deny(condition={"StringNotEquals": {
        "aws:PrincipalAccount": ["111111111111", "222222222222"]}})), False, {"222222222222"}, True),
    ("policy-as-object", doc(allow({"AWS": ROLE_A}), DENY_ORG, as_string=False), False, {"222222222222"}, True),
    ("single-statement-object", json.dumps({"Statement": allow({"AWS": ROLE_A})}), False, {"222222222222"}, False),
    ("principal-star", doc(allow("*")), True, set(), False),
    ("principal-aws-star", doc(allow({"AWS": "*"})), True, set(), False),
    ("principal-aws-star-list", doc(allow({"AWS": ["*", ROLE_A]})), True, {"222222222222"}, False),
    ("wildcard-account-root", doc(allow({"AWS": "arn:aws:iam::*:root"})), True, set(), False),
    ("star-with-org-condition", doc(allow("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}})), False, set(), False),
    ("star-with-org-paths", doc(allow("*", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/r-ab12/*"]}})),
     False, set(), False),
    ("condition-key-case-insensitive", doc(allow("*", {"StringEquals": {"AWS:principalorgid": ORG}})), False, set(),
     False),
    ("star-with-account-condition", doc(allow("*", {"StringEquals": {"aws:PrincipalAccount": "333333333333"}})),
     False, {"333333333333"}, False),
    ("star-with-arn-like-condition", doc(allow("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/*"}})),
     False, {"222222222222"}, False),
    ("star-with-wildcard-account-arn", doc(allow("*", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}})),
     True, set(), False),
    ("star-with-ifexists-condition", doc(allow("*", {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}})),
     True, set(), False),
    ("star-with-forallvalues-condition", doc(allow("*", {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}})),
     True, set(), False),
    ("star-with-negated-condition", doc(allow("*", {"StringNotEquals": {"aws:PrincipalOrgID": ORG}})), True, set(),
     False),
    ("star-with-wildcard-org", doc(allow("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}})), True, set(), False),
    ("star-with-unrelated-condition", doc(allow("*", {"Bool": {"aws:SecureTransport": "true"}})), True, set(), False),
    ("account-id", doc(allow({"AWS": "222222222222"})), False, {"222222222222"}, False),
    ("root-arn", doc(allow({"AWS": "arn:aws:iam::999999999999:root"})), False, {"999999999999"}, False),
    ("gov-cloud-role", doc(allow({"AWS": "arn:aws-us-gov:iam::222222222222:role/x"})), False, {"222222222222"}, False),
    ("assumed-role", doc(allow({"AWS": "arn:aws:sts::333333333333:assumed-role/R/session"})), False, {"333333333333"},
     False),
    ("service-principal", doc(allow({"Service": "lambda.amazonaws.com"})), False, set(), False),
    ("not-principal-allow", doc(allow(not_principal={"AWS": ROLE_A})), True, set(), False),
    ("deny-not-principal", doc(allow({"AWS": ROLE_A}), deny(not_principal={"AWS": [
        "arn:aws:iam::111111111111:root", ROLE_A]})), False, {"222222222222"}, True),
    ("deny-with-aws-service-exception", doc(deny(condition={
        "StringNotEquals": {"aws:PrincipalOrgID": ORG}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})),
     False, set(), True),
    ("deny-narrowed-by-other-condition", doc(deny(condition={
        "StringNotEquals": {"aws:PrincipalOrgID": ORG}, "Bool": {"aws:SecureTransport": "false"}})), False, set(),
     False),
    ("deny-other-action", doc(deny(condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
                                   action="secretsmanager:DeleteSecret")), False, set(), False),
    ("deny-not-action", doc(deny(condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
                                 not_action=["secretsmanager:DescribeSecret"])), False, set(), True),
    ("deny-get-wildcard", doc(deny(condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:*"}},
                                   action=["secretsmanager:Get*"])), False, set(), True),
    ("deny-without-condition", doc(deny()), False, set(), False),
    ("deny-positive-condition", doc(deny(condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})), False, set(), False),
    ("deny-named-principal-only", doc(deny({"AWS": "arn:aws:iam::999999999999:root"})), False, set(), False),
]


@pytest.mark.parametrize("document, public, accounts, denies", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_resource_policy_table(document, public, accounts, denies):
    statements = parse_policy(document)
    assert bool(public_grants(statements)) is public
    assert set(allow_principal_accounts(statements).accounts) == accounts
    assert (find_deny_outside(statements)[0] is not None) is denies


def test_table_is_large_enough():
    assert len(TABLE) >= 25


def test_unique_ids_cannot_be_attributed_to_an_account():
    found = allow_principal_accounts(parse_policy(doc(allow({"AWS": ["AROAEXAMPLEID1234", ROLE_A]}))))
    assert found.unreadable == ["AROAEXAMPLEID1234"]
    assert found.accounts == {"222222222222": ["statement 0"]}


def test_public_grant_reasons():
    reasons = [reason for _, reason in public_grants(parse_policy(doc(
        allow("*", sid="A"), allow(not_principal={"AWS": ROLE_A}), allow({"AWS": "arn:aws:iam::*:root"}))))]
    assert reasons == [
        'Principal "*" grants every AWS principal, including anonymous callers',
        "Allow with NotPrincipal grants every principal it does not name",
        "principal 'arn:aws:iam::*:root' matches every AWS account",
    ]


def test_deny_outside_explains_near_misses():
    statement, notes = find_deny_outside(parse_policy(doc(
        deny(condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, action="secretsmanager:DeleteSecret"),
        deny({"AWS": ROLE_A}),
        deny(condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}, "Bool": {"aws:SecureTransport": "false"}}),
        deny())))
    assert statement is None
    assert notes == [
        "statement 0 does not cover secretsmanager:GetSecretValue",
        "statement 1 only denies the principals it names, not everyone outside",
        "statement 2 is narrowed by other conditions (aws:securetransport)",
        "statement 3 has no StringNotEquals condition on aws:PrincipalOrgID, aws:PrincipalAccount or aws:PrincipalArn",
    ]


@pytest.mark.parametrize("document, error", [
    ("{not json", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"Version": "2012-10-17"}', "has no Statement"),
    ('{"Statement": "x"}', "must be an object or a list"),
    ('{"Statement": [1]}', "Statement[0] must be an object"),
    ('{"Statement": [{"Effect": "allow", "Principal": "*"}]}', 'Effect must be "Allow" or "Deny"'),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "NotPrincipal": "*"}]}', "both Principal and NotPrincipal"),
    ('{"Statement": [{"Effect": "Allow", "Principal": ["*"]}]}', "must be \"*\" or a map"),
    ('{"Statement": [{"Effect": "Allow", "Principal": {"Aws": "*"}}]}', "unknown principal type 'Aws'"),
    ('{"Statement": [{"Effect": "Allow", "Principal": {"AWS": 1}}]}', "string or a list of strings"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Condition": []}]}', "Condition must be a map"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": "x"}}]}', "map of key"),
])
def test_unreadable_policies(document, error):
    with pytest.raises(PolicyDocumentError) as caught:
        parse_policy(document)
    assert error in str(caught.value)
