"""The access diff's evaluation held to an independent IAM evaluator (principalmapper, tests/iam_evaluator.py).

Our evaluation (secrets_layout/review/iam.py, access.py) runs in users' CI and is our own code; here,
for every case, what it says each candidate principal may do with each secret in each region, before
and after a change, must be what principalmapper allows on the same documents: GetSecretValue on the
secret (its resource policy) AND kms:Decrypt on the secret's key in that region, as Secrets Manager asks
KMS for the caller (kms:ViaService, kms:CallerAccount, the SecretARN encryption context). Every
candidate's own IAM policy allows everything (`EVERYTHING`): the access diff is the resource side.

Candidates: the declared reader roles, another role of a reader account, a reader account's root, the
security account's root and one of its roles, a role of another account of the organization, and a
role outside it. Two tables: changes to a declaration, run through the packaged program on the mock
engine, with the widenings each must report; and hand-written documents for what the layout never
writes (NotPrincipal, wildcards, explicit denies, stage conditions, a key that does not let readers in).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iam_evaluator import allowed, role
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.cache import comparable_resources
from secrets_layout.engine.changes import plan_changes
from secrets_layout.engine.recorded_values import RegisteredResource
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.review.access import AccessMap, who_can_read
from secrets_layout.review.access_diff import review_access
from secrets_layout.review.iam import Caller

SECURITY, APP, DATA = "111111111111", "222222222222", "333333333333"
OTHER_MEMBER, OUTSIDER = "999999999999", "888888888888"
ORGANIZATION, OTHER_ORGANIZATION = "o-a1b2c3d4e5", "o-zzzzzzzzzz"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
VERSION_ID = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
CHECKED = {
    # our capability -> (action, request context it adds)
    "GetSecretValue": ("secretsmanager:GetSecretValue", {}),
    "GetSecretValue AWSCURRENT": ("secretsmanager:GetSecretValue", {"secretsmanager:VersionStage": "AWSCURRENT"}),
    "GetSecretValue AWSPENDING": ("secretsmanager:GetSecretValue", {"secretsmanager:VersionStage": "AWSPENDING"}),
    "DescribeSecret": ("secretsmanager:DescribeSecret", {}),
    "PutResourcePolicy": ("secretsmanager:PutResourcePolicy", {}),
}


def arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


@dataclass(frozen=True)
class Documents:
    """One side's documents, read straight from the simulation (not through access.py)."""

    secret_arns: dict[str, dict[str, str]]   # name -> region -> ARN
    secret_policies: dict[str, Any]          # name -> document (absent: none)
    secret_keys: dict[str, dict[str, str]]   # name -> region -> key ARN
    key_policies: dict[str, Any]             # key ARN -> document


def documents(resources: list[RegisteredResource]) -> Documents:
    arns, keys, key_policies, policies = {}, {}, {}, {}
    for resource in resources:
        if resource.type == "aws:kms/key:Key":
            key_policies[resource.outputs["arn"]] = json.loads(resource.inputs["policy"])
        if resource.type == "aws:secretsmanager/secret:Secret":
            primary = resource.outputs["arn"]
            name = resource.inputs["name"]
            regions = {primary.split(":")[3]: resource.inputs.get("kmsKeyId")}
            regions.update({replica["region"]: replica.get("kmsKeyId") for replica in resource.inputs.get("replicas") or []})
            arns[name] = {region: primary.replace(primary.split(":")[3], region, 1) for region in regions}
            keys[name] = regions
    by_arn = {arn_: name for name, regional in arns.items() for arn_ in regional.values()}
    for resource in resources:
        if resource.type == "aws:secretsmanager/secretPolicy:SecretPolicy":
            policies[by_arn[resource.inputs["secretArn"]]] = json.loads(resource.inputs["policy"])
    return Documents(arns, policies, keys, key_policies)


def principalmapper_may(side: Documents, secret: str, region: str, caller: Caller, capability: str) -> bool:
    action, extra = CHECKED[capability]
    principal, organization = stand_in(caller)
    secret_arn = side.secret_arns[secret][region]
    on_secret = allowed(principal, action, secret_arn, context={**organization, **extra},
                        resource_policy=side.secret_policies.get(secret, {"Version": "2012-10-17", "Statement": []}))
    if action != "secretsmanager:GetSecretValue":
        return on_secret
    key = side.secret_keys[secret][region]
    decrypt = allowed(principal, "kms:Decrypt", key, context={
        **organization, "kms:ViaService": f"secretsmanager.{region}.amazonaws.com", "kms:CallerAccount": caller.account,
        "kms:EncryptionContext:SecretARN": secret_arn, "kms:EncryptionContext:SecretVersionId": VERSION_ID,
    }, resource_policy=side.key_policies[key])
    return on_secret and decrypt


def stand_in(caller: Caller):
    """principalmapper's principal for the caller, and the request keys that say who it is. principalmapper
    models IAM users and roles only: an account's root stands in as a role of that account whose aws:PrincipalArn is
    the root's ARN (what IAM puts in the request for the root user)."""
    keys = {"aws:PrincipalOrgID": caller.organization} if caller.organization else {}
    if caller.arn.endswith(":root"):
        return role(f"arn:aws:iam::{caller.account}:role/account-root-stand-in", [EVERYTHING]), {**keys, "aws:PrincipalArn": caller.arn}
    return role(caller.arn, [EVERYTHING]), keys


def ours_may(access: AccessMap, secret: str, region: str, caller: Caller, capability: str) -> bool:
    row = access.answer_for(secret, region, caller)
    return row is not None and capability in row.actions and not row.depends_on


def mismatches(side: Documents, access: AccessMap, callers: list[tuple[str, Caller]], label: str) -> list[str]:
    found = []
    for secret, regions in side.secret_arns.items():
        for region in regions:
            for who, caller in callers:
                for capability in CHECKED:
                    expected = principalmapper_may(side, secret, region, caller, capability)
                    got = ours_may(access, secret, region, caller, capability)
                    if expected != got:
                        found.append(f"{label}: {who} {capability} on {secret} in {region}: "
                                     f"principalmapper {'allows' if expected else 'denies'}, ours {'allows' if got else 'denies'}")
    return found


def candidates(*roles: tuple[str, str]) -> list[tuple[str, Caller]]:
    named = [(f"declared reader {name} of {account}", Caller(arn(account, name), account, ORGANIZATION))
             for account, name in roles]
    return named + [
        ("another role of a reader account", Caller(arn(APP, "NotAReader"), APP, ORGANIZATION)),
        ("a reader account's root", Caller(f"arn:aws:iam::{APP}:root", APP, ORGANIZATION)),
        ("the security account's root", Caller(f"arn:aws:iam::{SECURITY}:root", SECURITY, ORGANIZATION)),
        ("a role of the security account", Caller(arn(SECURITY, "Administrator"), SECURITY, ORGANIZATION)),
        ("a role of another account of the organization", Caller(arn(OTHER_MEMBER, "AppRole"), OTHER_MEMBER, ORGANIZATION)),
        ("a role outside the organization", Caller(arn(OUTSIDER, "AppRole"), OUTSIDER, OTHER_ORGANIZATION)),
        ("a role of an account in no organization", Caller(arn(OUTSIDER, "AppRole"), OUTSIDER, None)),
    ]


# -- Changes to a declaration, through the packaged program ----------------------------------------

BASE = textwrap.dedent("""\
    environment: test
    security_account: "111111111111"
    organization_id: o-a1b2c3d4e5
    primary_region: us-east-1
    accounts:
      test-app: "222222222222"
    defaults:
      rotation: {enabled: false, reason: a fixture}
      tags: {owner: platform-team}
      protect: false
    secrets:
      - name: test/app/api-key
        kind: generic
        value: {external: true}
        readers: [{account: test-app, roles: [AppRole]}]
      - name: test/app/token
        kind: generic
        value: {external: true}
        replicas: [us-west-2]
        readers: [{account: test-app, roles: [TokenRole]}]
    """)
A_ROLE_MORE = BASE.replace("roles: [AppRole]", "roles: [AppRole, ReportingRole]")
AN_ACCOUNT_MORE = BASE.replace('  test-app: "222222222222"\n', '  test-app: "222222222222"\n  test-data: "333333333333"\n').replace(
    "readers: [{account: test-app, roles: [AppRole]}]",
    "readers: [{account: test-app, roles: [AppRole]}, {account: test-data, roles: [EtlRole]}]")
A_REPLICA_MORE = BASE.replace("replicas: [us-west-2]", "replicas: [us-west-2, eu-west-1]")
NO_ORGANIZATION = BASE.replace("organization_id: o-a1b2c3d4e5\n", "")
PENDING_TOO = BASE.replace("readers: [{account: test-app, roles: [TokenRole]}]",
                           "readers: [{account: test-app, roles: [TokenRole], stages: [AWSCURRENT, AWSPENDING]}]")
A_READER_LESS = BASE.replace("roles: [AppRole]", "roles: []").replace(
    "readers: [{account: test-app, roles: []}]", "readers: []")
A_SECRET_MORE = BASE + (
    "  - name: test/app/webhook\n"
    "    kind: generic\n"
    "    value: {external: true}\n"
    "    readers: [{account: test-app, roles: [HookRole]}]\n")
ROLES = [(APP, "AppRole"), (APP, "TokenRole"), (APP, "ReportingRole"), (DATA, "EtlRole"), (APP, "HookRole")]


@dataclass(frozen=True)
class Case:
    name: str
    before: str
    after: str
    widenings: set[tuple[str, str, str, str]]
    """(kind, secret, region, principal) the review must report: nothing more, nothing less."""
    weakened_denies: set[tuple[str, str]] = frozenset()
    """(kind, statement)."""


CASES = [
    Case("nothing changes", BASE, BASE, set()),
    Case("a role added to a reader", BASE, A_ROLE_MORE,
         {("new principal", "test/app/api-key", "us-east-1", arn(APP, "ReportingRole"))}),
    Case("a reader in a new account", BASE, AN_ACCOUNT_MORE,
         {("new account", "test/app/api-key", "us-east-1", arn(DATA, "EtlRole"))},
         {("deny changed", "DenyOutsideEnvironmentAccounts")}),
    Case("a replica in a new region", BASE, A_REPLICA_MORE,
         # The security account as a whole reads the new replica too: listed, not called out.
         {("new region", "test/app/token", "eu-west-1", arn(APP, "TokenRole"))}),
    Case("the organization's deny removed", BASE, NO_ORGANIZATION, set(),
         {("deny removed", "DenyOutsideOrganization")}),
    Case("AWSPENDING added to a reader's stages", BASE, PENDING_TOO,
         {("broader actions", "test/app/token", region, arn(APP, "TokenRole")) for region in ("us-east-1", "us-west-2")}),
    Case("a reader removed", BASE, A_READER_LESS, set()),
    Case("a secret added", BASE, A_SECRET_MORE,
         {("new secret", "test/app/webhook", "us-east-1", arn(APP, "HookRole"))}),
]


def evaluated(tmp_path: Path, text: str, name: str) -> list[RegisteredResource]:
    file = tmp_path / name / "test.yaml"
    file.parent.mkdir()
    file.write_text(text)
    return evaluate_declaration(load_declaration(file)).resources


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_access_diff_of_a_change_is_what_principalmapper_allows(tmp_path, case):
    before_run, after_run = evaluated(tmp_path, case.before, "before"), evaluated(tmp_path, case.after, "after")
    before_resources, after_resources = comparable_resources(before_run), comparable_resources(after_run)
    after = who_can_read(after_resources, SECURITY)
    before = who_can_read(before_resources, SECURITY, known=after)
    callers = candidates(*ROLES)
    assert mismatches(documents(before_run), before, callers, "before") == []
    assert mismatches(documents(after_run), after, callers, "after") == []

    changes = plan_changes(after_resources, before_resources, date(2026, 11, 25))
    review = review_access(before, after, [(change.type, change.name, change.policy_diffs) for change in changes])
    assert {(change.widening, change.secret, change.region, change.reader.principal)
            for change in review.widenings} == case.widenings
    assert {(deny.kind, deny.statement) for deny in review.denies} == set(case.weakened_denies)


def test_a_reader_removed_is_a_loss_not_a_widening(tmp_path):
    before_run, after_run = evaluated(tmp_path, BASE, "before"), evaluated(tmp_path, A_READER_LESS, "after")
    after = who_can_read(comparable_resources(after_run), SECURITY)
    before = who_can_read(comparable_resources(before_run), SECURITY)
    review = review_access(before, after)
    lost = [(change.secret, change.reader.principal, change.lost) for change in review.changed]
    assert lost == [("test/app/api-key", arn(APP, "AppRole"),
                     ("GetSecretValue", "GetSecretValue AWSCURRENT", "DescribeSecret"))]


# -- Hand-written documents ------------------------------------------------------------------------

SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{SECURITY}:secret:app/db-AbCdEf"
KEY_ARN = f"arn:aws:kms:us-east-1:{SECURITY}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {"AWS": f"arn:aws:iam::{APP}:root"}


def statement(effect: str = "Allow", action: Any = "secretsmanager:GetSecretValue", **fields: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": "*", **fields}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


KEY_ADMINS = statement(Principal={"AWS": f"arn:aws:iam::{SECURITY}:root"}, action="kms:*")
KEY_FOR_APP = policy(KEY_ADMINS, statement(Principal=ROOT, action="kms:Decrypt", Condition={
    "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}))
KEY_FOR_EVERY_ACCOUNT_OF_THE_ORGANIZATION = policy(KEY_ADMINS, statement(Principal="*", action="kms:Decrypt", Condition={
    "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "aws:PrincipalOrgID": ORGANIZATION}}))
PINNED = {"ArnEquals": {"aws:PrincipalArn": arn(APP, "AppRole")}}
OUTSIDE_DENIED = statement("Deny", "secretsmanager:*", Principal="*", Condition={
    "StringNotEquals": {"aws:PrincipalOrgID": ORGANIZATION, "aws:PrincipalAccount": SECURITY}})

DOCUMENTS = {
    "an account pinned to one role": (policy(statement(Principal=ROOT, Condition=PINNED)), KEY_FOR_APP),
    "an account as a whole": (policy(statement(Principal=ROOT)), KEY_FOR_APP),
    "a role as the principal": (policy(statement(Principal={"AWS": arn(APP, "AppRole")})), KEY_FOR_APP),
    "everyone of the organization": (policy(statement(Principal="*", Condition={
        "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}})), KEY_FOR_EVERY_ACCOUNT_OF_THE_ORGANIZATION),
    "everyone": (policy(statement(Principal="*")), KEY_FOR_EVERY_ACCOUNT_OF_THE_ORGANIZATION),
    "everyone, and a deny outside the organization": (policy(statement(Principal="*"), OUTSIDE_DENIED),
                                                      KEY_FOR_EVERY_ACCOUNT_OF_THE_ORGANIZATION),
    "an account, one role of it denied": (policy(statement(Principal=ROOT), statement(
        "Deny", "secretsmanager:*", Principal="*", Condition={"ArnEquals": {"aws:PrincipalArn": arn(APP, "NotAReader")}})),
        KEY_FOR_APP),
    "everyone denied but one role (NotPrincipal)": (policy(statement(Principal=ROOT), statement(
        "Deny", "secretsmanager:GetSecretValue", NotPrincipal={"AWS": arn(APP, "AppRole")})), KEY_FOR_APP),
    "roles matching a pattern": (policy(statement(Principal=ROOT, Condition={
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{APP}:role/App*"}})), KEY_FOR_APP),
    "a stage named": (policy(statement(Principal=ROOT, Condition={
        **PINNED, "StringEquals": {"secretsmanager:VersionStage": "AWSPENDING"}})), KEY_FOR_APP),
    "every action to a role": (policy(statement(Principal=ROOT, action="secretsmanager:*", Condition=PINNED)), KEY_FOR_APP),
    "a key that lets no reader in": (policy(statement(Principal=ROOT, Condition=PINNED)), policy(KEY_ADMINS)),
    "a key for another region's Secrets Manager": (policy(statement(Principal=ROOT, Condition=PINNED)), policy(
        KEY_ADMINS, statement(Principal=ROOT, action="kms:Decrypt", Condition={
            "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}))),
    "the security account's own principals denied": (policy(statement(
        "Deny", "secretsmanager:*", Principal="*", Condition={"StringEquals": {"aws:PrincipalAccount": SECURITY}})),
        KEY_FOR_APP),
}


def resources_of(secret_policy: dict[str, Any], key_policy: dict[str, Any]) -> list[RegisteredResource]:
    """A secret with its resource policy, encrypted with a key: as the simulation records them."""
    def registered(type_: str, name: str, inputs: dict[str, Any], id_: str) -> RegisteredResource:
        return RegisteredResource(
            urn=f"urn:pulumi:test::p::{type_}::{name}", type=type_, name=name, custom=True, id=id_, parent=None,
            provider=None, inputs=inputs, outputs={}, secret_inputs=frozenset(), protect=None, ignore_changes=(),
            import_id=None, depends_on=(), dependencies=(), property_dependencies={}, additional_secret_outputs=(),
            replace_on_changes=(), delete_before_replace=None, retain_on_delete=None)

    return [
        registered("aws:kms/key:Key", "key", {"policy": json.dumps(key_policy)}, KEY_ARN.rsplit("/", 1)[1]),
        registered("aws:secretsmanager/secret:Secret", "secret", {"name": "app/db", "kmsKeyId": KEY_ARN}, SECRET_ARN),
        registered("aws:secretsmanager/secretPolicy:SecretPolicy", "policy",
                   {"secretArn": SECRET_ARN, "policy": json.dumps(secret_policy)}, SECRET_ARN),
    ]


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_the_evaluation_of_a_document_is_what_principalmapper_allows(name):
    secret_policy, key_policy = DOCUMENTS[name]
    side = Documents({"app/db": {"us-east-1": SECRET_ARN}}, {"app/db": secret_policy}, {"app/db": {"us-east-1": KEY_ARN}},
                     {KEY_ARN: key_policy})
    access = who_can_read(resources_of(secret_policy, key_policy), SECURITY)
    assert access.problems == []
    callers = candidates((APP, "AppRole"), (APP, "AppRunner"))
    assert mismatches(side, access, callers, name) == []


def test_a_condition_on_what_the_request_carries_is_reported_as_depending_on_it():
    """aws:SourceVpce is the caller's network path: not in the documents, so neither allowed nor denied."""
    secret_policy = policy(statement(Principal=ROOT, Condition={**PINNED, "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    access = who_can_read(resources_of(secret_policy, KEY_FOR_APP), SECURITY)
    row = access.answer_for("app/db", "us-east-1", Caller(arn(APP, "AppRole"), APP, ORGANIZATION))
    assert row is not None and "GetSecretValue" in row.actions and row.depends_on == ("aws:SourceVpce",)


A_SECRET_ADOPTED = BASE + (
    "  - name: test/app/legacy\n"
    "    kind: generic\n"
    "    value: {external: true}\n"
    "    readers: [{account: test-app, roles: [LegacyRole]}]\n"
    '    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:test/app/legacy-AbCdEf"\n')


@pytest.mark.parametrize(("adopted", "widenings"), [
    pytest.param((), {("new secret", arn(APP, "LegacyRole"))}, id="a new secret"),
    pytest.param(("test/app/legacy",), set(), id="an existing secret adopted with import_id"),
])
def test_an_adopted_secret_is_listed_not_called_out(tmp_path, adopted, widenings):
    """Its readers read it before the stack held it; the review cannot tell what they could do then."""
    before = who_can_read(comparable_resources(evaluated(tmp_path, BASE, "before")), SECURITY)
    after = who_can_read(comparable_resources(evaluated(tmp_path, A_SECRET_ADOPTED, "after")), SECURITY)
    review = review_access(before, after, adopted=adopted)
    assert {(change.widening, change.reader.principal) for change in review.widenings} == widenings
    assert any(change.secret == "test/app/legacy" and change.after for change in review.changes)


def _with_secret_policy_text(resources: list[RegisteredResource], text: str) -> list[RegisteredResource]:
    """The secret's policy as a program may give it: any string, not necessarily a document."""
    return [replace(resource, inputs={**resource.inputs, "policy": text})
            if resource.type == "aws:secretsmanager/secretPolicy:SecretPolicy" else resource for resource in resources]


def test_a_secret_whose_policy_is_unreadable_on_both_sides_is_a_problem_on_both_not_a_crash():
    """The base's map reuses the head's rows for a secret of the same inputs: one that has no rows
    (its policy is not a document) is evaluated again, and is the same problem there."""
    resources = _with_secret_policy_text(resources_of(policy(statement(Principal=ROOT)), KEY_FOR_APP), "{not json")
    after = who_can_read(resources, SECURITY)
    before = who_can_read(resources, SECURITY, known=after)
    assert before.problems == after.problems == [
        "app/db: a policy is not a readable document (the policy is not valid JSON (Expecting property name enclosed "
        "in double quotes: line 1 column 2 (char 1))); its access is not shown"]
    assert before.rows == after.rows == {}


def _secrets_on_one_key(count: int, key_policy: Any) -> list[RegisteredResource]:
    """`count` secrets with the same resource policy, each in us-east-1 and replicated to eu-west-1, all on
    one key: its policy as given (a mapping, as aws-native's `keyPolicy` is, or JSON text)."""
    [key, secret, secret_policy] = resources_of(policy(statement(Principal=ROOT)), KEY_FOR_APP)
    found = [replace(key, inputs={"policy": key_policy})]
    for number in range(count):
        arn_ = SECRET_ARN.replace("app/db", f"app/db{number}")
        found += [replace(secret, urn=f"{secret.urn}{number}", name=f"secret{number}", id=arn_, inputs={
                      "name": f"app/db{number}", "kmsKeyId": KEY_ARN, "replicas": [{"region": "eu-west-1", "kmsKeyId": KEY_ARN}]}),
                  replace(secret_policy, urn=f"{secret_policy.urn}{number}", name=f"policy{number}", id=arn_,
                          inputs={**secret_policy.inputs, "secretArn": arn_})]
    return found


def test_a_key_policy_is_made_text_once_per_deployment_not_once_per_secret_and_region(monkeypatch):
    """A key policy names every reader of every secret it encrypts: serializing it for each secret and
    region (for the inputs a known map is matched by, and for the evaluation) cost seconds at 1,000 secrets."""
    import json as json_module

    serialized: list[Any] = []
    real_dumps = json_module.dumps

    def dumps(value, *arguments, **options):
        serialized.append(value)
        return real_dumps(value, *arguments, **options)

    resources = _secrets_on_one_key(5, KEY_FOR_APP)
    monkeypatch.setattr(json_module, "dumps", dumps)
    from_mapping = who_can_read(resources, SECURITY)
    assert sum(1 for value in serialized if value == KEY_FOR_APP) == 1
    monkeypatch.undo()
    from_text = who_can_read(_secrets_on_one_key(5, json.dumps(KEY_FOR_APP, sort_keys=True)), SECURITY)
    assert len(from_mapping.rows) == 10 and from_mapping.problems == []
    assert (from_mapping.rows, from_mapping.accounts, from_mapping.inputs) == (from_text.rows, from_text.accounts,
                                                                               from_text.inputs)
