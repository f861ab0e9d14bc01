"""Policy documents compared statement by statement (secrets_layout/review/policy_diff.py), the way
`cdk diff`'s "IAM Statement Changes" shows them: pairs by Sid, else by content; what each element
gains and loses; which changes may let more through a Deny."""

from __future__ import annotations

import json

import pytest

from secrets_layout.engine.recorded_values import SecretValue
from secrets_layout.review.policy_diff import ElementChange, StatementChange, diff_documents, policy_diffs

APP_ROOT = {"AWS": "arn:aws:iam::222222222222:root"}
READ = {"Sid": "ReadApp", "Effect": "Allow", "Principal": APP_ROOT, "Action": "secretsmanager:GetSecretValue",
        "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/App"}}}
DENY = {"Sid": "DenyOutside", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}

LIST = {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:ListSecrets", "Resource": "*"}


def document(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def without_sid(statement):
    return {key: value for key, value in statement.items() if key != "Sid"}


def summary(changes):
    """(change, label, {element: (added, removed, kept)}) of each statement change."""
    return [(change.change, change.label, {element.element: (element.added, element.removed, element.kept)
                                           for element in change.elements}) for change in changes]


@pytest.mark.parametrize(("before", "after", "expected"), [
    pytest.param(document(READ, DENY), json.dumps(document(READ, DENY)), [], id="the same document as text and object"),
    pytest.param(document(READ, DENY), document(DENY, READ), [], id="the same statements in another order"),
    pytest.param(document(READ), document(READ, DENY), [("added", "DenyOutside", {
        "principal": (("*",), (), ()), "action": (("secretsmanager:*",), (), ()), "resource": (("*",), (), ()),
        "condition": (("StringNotEquals aws:PrincipalOrgID: o-a1b2c3d4e5",), (), ())})], id="a statement added"),
    pytest.param(document(READ, DENY), document(READ), [("removed", "DenyOutside", {
        "principal": ((), ("*",), ()), "action": ((), ("secretsmanager:*",), ()), "resource": ((), ("*",), ()),
        "condition": ((), ("StringNotEquals aws:PrincipalOrgID: o-a1b2c3d4e5",), ())})], id="a statement removed"),
    pytest.param(document(READ), document({**READ, "Condition": {"ArnEquals": {"aws:PrincipalArn": [
        "arn:aws:iam::222222222222:role/App", "arn:aws:iam::222222222222:role/Reporting"]}}}),
        [("changed", "ReadApp", {
            "principal": ((), (), ("AWS:arn:aws:iam::222222222222:root",)),
            "action": ((), (), ("secretsmanager:GetSecretValue",)),
            "condition": (("ArnEquals aws:PrincipalArn: arn:aws:iam::222222222222:role/Reporting",), (), ())})],
        id="paired by Sid: a role added to its condition"),
    pytest.param(document(without_sid(READ)), document({**without_sid(READ), "Action": [
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]}),
        [("changed", "#1", {"principal": ((), (), ("AWS:arn:aws:iam::222222222222:root",)),
                            "action": (("secretsmanager:DescribeSecret",), (), ("secretsmanager:GetSecretValue",))})],
        id="paired by content without a Sid: an action added"),
    pytest.param(document(READ), document({**READ, "Sid": "ReadTheApp"}),
        [("changed", "ReadTheApp", {"sid": (("ReadTheApp",), ("ReadApp",), ()),
                                    "principal": ((), (), ("AWS:arn:aws:iam::222222222222:root",)),
                                    "action": ((), (), ("secretsmanager:GetSecretValue",))})],
        id="a renamed Sid pairs by content"),
    pytest.param(document(without_sid(READ)), document(LIST),
        [("removed", "#1", {"principal": ((), ("AWS:arn:aws:iam::222222222222:root",), ()),
                            "action": ((), ("secretsmanager:GetSecretValue",), ()), "resource": ((), ("*",), ()),
                            "condition": ((), ("ArnEquals aws:PrincipalArn: arn:aws:iam::222222222222:role/App",), ())}),
         ("added", "#1", {"principal": (("*",), (), ()), "action": (("secretsmanager:ListSecrets",), (), ()),
                          "resource": (("*",), (), ())})],
        id="two allows sharing too little stay an addition and a removal"),
])
def test_statements_pair_by_sid_then_by_content(before, after, expected):
    assert summary(diff_documents(before, after)) == expected


@pytest.mark.parametrize(("before", "after", "weakens"), [
    pytest.param(document(READ, DENY), document(READ), True, id="a deny removed"),
    pytest.param(document(DENY), document({**DENY, "Effect": "Allow"}), True, id="a deny turned into an allow"),
    pytest.param(document(DENY), document({**DENY, "Condition": {"StringNotEquals": {
        "aws:PrincipalOrgID": ["o-a1b2c3d4e5", "o-zzzzzzzzzz"]}}}), True, id="a deny's condition changed"),
    pytest.param(document(DENY), document({**DENY, "Action": "secretsmanager:GetSecretValue"}), True,
                 id="a deny covering fewer actions"),
    pytest.param(document(DENY), document({**DENY, "Action": ["secretsmanager:*", "kms:*"]}), False,
                 id="a deny covering more actions"),
    pytest.param(document(READ), document(READ, DENY), False, id="a deny added"),
    pytest.param(document(READ), document({**READ, "Principal": "*"}), False, id="an allow changed (access.py judges it)"),
])
def test_which_changes_may_let_more_through_a_deny(before, after, weakens):
    assert any(change.weakens_deny for change in diff_documents(before, after)) is weakens


@pytest.mark.parametrize(("resource_type", "name"), [
    ("aws:kms/key:Key", "policy"),
    ("aws:secretsmanager/secretPolicy:SecretPolicy", "policy"),
    ("aws:iam/rolePolicy:RolePolicy", "policy"),
    ("aws-native:kms:Key", "keyPolicy"),
    ("aws-native:secretsmanager:ResourcePolicy", "resourcePolicy"),
])
def test_key_secret_and_iam_policies_are_compared(resource_type, name):
    [diff] = policy_diffs(resource_type, {name: json.dumps(document(READ))}, {name: document(READ, DENY)})
    assert (diff.property, [change.change for change in diff.statements], diff.unreadable) == (name, ["added"], None)


def test_a_resource_without_a_policy_document_has_no_diff():
    assert policy_diffs("aws:secretsmanager/secret:Secret", {"name": "a"}, {"name": "b"}) == ()
    assert policy_diffs("aws:kms/key:Key", {"policy": json.dumps(document(READ))}, {"policy": document(READ)}) == ()


@pytest.mark.parametrize(("old", "new", "unreadable"), [
    pytest.param(SecretValue(json.dumps(document(READ))), SecretValue(json.dumps(document(READ, DENY))),
                 "a secret value: not shown", id="a secret"),
    pytest.param("{not json", json.dumps(document(READ)), "not a policy document (the policy is not valid JSON",
                 id="not JSON"),
    pytest.param(json.dumps({"Version": "2012-10-17"}), json.dumps(document(READ)),
                 "not a policy document (the policy has no Statement)", id="no Statement"),
])
def test_a_document_that_cannot_be_read_says_why_and_shows_nothing_of_it(old, new, unreadable):
    [diff] = policy_diffs("aws:kms/key:Key", {"policy": old}, {"policy": new})
    assert diff.statements == () and diff.unreadable.startswith(unreadable)


def test_the_same_change_at_another_position_is_the_same_change():
    """A report groups identical changes of many resources: the statement's position is not part of it."""
    first = diff_documents(document(READ, DENY), document(READ, {**DENY, "Action": "secretsmanager:GetSecretValue"}))
    second = diff_documents(document(DENY), document({**DENY, "Action": "secretsmanager:GetSecretValue"}))
    assert first == second and (first[0].after_index, second[0].after_index) == (1, 0)
    assert first[0] == StatementChange("changed", "DenyOutside", "Deny", (
        ElementChange("principal", kept=("*",)),
        ElementChange("action", added=("secretsmanager:GetSecretValue",), removed=("secretsmanager:*",))))
