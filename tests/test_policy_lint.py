"""Every policy document the program produces, linted by parliament (duo-labs' IAM linter).

Documents: each example environment's registered secret policies, key policies, role trust
policies and role policies (__main__.py on the mock engine), and the consumer policy the CLI
prints for every reader of every secret. parliament checks actions, resource ARN formats,
condition keys against the actions they are used with and their operators' types; community
auditors included. A finding passes only if EXPECTED_FINDINGS explains it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

import parliament
import pytest

from components_support import KMS_KEY, ROLE, ROLE_POLICY, ROOT, SECRET_POLICY, run_program
from secrets_layout.consumer_policy import consumer_policy
from secrets_layout.declaration.loader import load_declaration

STACKS = ["dev", "staging", "prod", "shared-services"]

# (document kind, parliament issue, detail) -> why it is right here.
EXPECTED_FINDINGS: dict[tuple[str, str, str], str] = {
    ("trust policy", "MALFORMED", '"Statement contains neither Resource nor NotResource"'): (
        "parliament reads every document as an identity policy; a role's trust policy names no Resource "
        "(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: "
        "role trust policies do not have a Resource element)"
    ),
    ("secret policy", "RESOURCE_STAR", '["secretsmanager:GetSecretValue"]'): (
        'in a resource policy "*" is the resource it is attached to: this secret '
        "(https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html)"
    ),
    ("secret policy", "RESOURCE_STAR", '["secretsmanager:DescribeSecret"]'): "as above: this secret",
    ("key policy", "RESOURCE_STAR", '["kms:Decrypt", "kms:DescribeKey"]'): (
        'in a key policy "*" means this KMS key (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)'
    ),
    ("key policy", "RESOURCE_STAR", "kms:*"): "as above: the security account administers this key only",
    ("key policy", "PERMISSIONS_MANAGEMENT_ACTIONS", '""'): (
        "the security account's root keeps kms:* on its key, KMS's default key policy, without which no one could "
        "manage the key or fix its policy (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)"
    ),
}


def detail_of(finding) -> str:
    detail = json.dumps(finding.detail)
    # kms:* expands to every KMS action: one entry, whatever the KMS version parliament knows.
    return "kms:*" if detail.startswith('["kms:CancelKeyDeletion"') else detail


def findings(document: str) -> list[tuple[str, str]]:
    policy = parliament.analyze_policy_string(document, include_community_auditors=True, config=parliament.config)
    return [(finding.issue, detail_of(finding)) for finding in policy.findings]


@cache
def documents(stack: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, where, JSON) of every policy document of the stack."""
    run = run_program(stack)
    kinds = {(SECRET_POLICY, "policy"): "secret policy", (KMS_KEY, "policy"): "key policy",
             (ROLE, "assumeRolePolicy"): "trust policy", (ROLE_POLICY, "policy"): "role policy"}
    found = [
        (kind, resource.name, resource.inputs[key])
        for resource in run.resources
        for (type_, key), kind in kinds.items()
        if resource.type == type_
    ]
    loaded = load_declaration(ROOT / "environments" / f"{stack}.yaml")
    found += [
        ("consumer policy", f"{secret.name} for {reader.account}",
         json.dumps(consumer_policy(loaded, secret.name, reader.account)))
        for secret in loaded.declaration.secrets
        for reader in secret.readers
    ]
    return tuple(found)


def all_findings() -> Iterator[tuple[str, str, str, str]]:
    for stack in STACKS:
        for kind, where, document in documents(stack):
            for issue, detail in findings(document):
                yield stack, kind, where, issue, detail


def test_every_kind_of_document_is_linted():
    kinds = {kind for stack in STACKS for kind, _, _ in documents(stack)}
    assert kinds == {"secret policy", "key policy", "trust policy", "role policy", "consumer policy"}


def test_every_finding_is_explained():
    unexplained = [
        f"{stack}: {kind} {where}: {issue} {detail}"
        for stack, kind, where, issue, detail in all_findings()
        if (kind, issue, detail) not in EXPECTED_FINDINGS
    ]
    assert unexplained == []


def test_every_explanation_is_still_needed():
    seen = {(kind, issue, detail) for _, kind, _, issue, detail in all_findings()}
    assert set(EXPECTED_FINDINGS) - seen == set()


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        pytest.param({"Action": "secretsmanager:GetSecretValues"}, "UNKNOWN_ACTION", id="an action that does not exist"),
        pytest.param({"Condition": {"StringEquals": {"secretsmanager:VersionStages": "AWSCURRENT"}}},
                     "UNKNOWN_CONDITION_FOR_ACTION", id="a condition key the action does not have"),
        pytest.param({"Condition": {"ArnEquals": {"aws:PrincipalArn": "ProductionAppRole"}}},
                     "MISMATCHED_TYPE", id="an ARN operator on a value that is no ARN"),
    ],
)
def test_parliament_finds_what_it_should(statement, issue):
    """The linter itself, on documents that are wrong: it must not pass everything."""
    base = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-??????",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [{**base, **statement}]})
    assert issue in {found for found, _ in findings(document)}


@pytest.mark.parametrize("stack", STACKS)
def test_no_resource_policy_names_a_role_as_principal(stack):
    """Finding 1: AWS rejects a secret or key policy that names a role which does not exist, and
    stores a re-created role as its old unique ID; principals are accounts (roles are pinned by
    aws:PrincipalArn), services or "*"."""
    principals = [
        (where, value)
        for kind, where, document in documents(stack)
        if kind in ("secret policy", "key policy")
        for statement in json.loads(document)["Statement"]
        if isinstance(statement.get("Principal"), dict)
        for value in ([statement["Principal"]["AWS"]] if isinstance(statement["Principal"].get("AWS"), str)
                      else statement["Principal"].get("AWS", []))
    ]
    assert principals
    assert [(where, value) for where, value in principals if not value.endswith(":root")] == []
