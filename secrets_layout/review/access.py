"""Who can read each secret, in each of its regions, from the resources a deployment registers.

Reading a secret encrypted with a customer managed key takes two permissions: GetSecretValue on the
secret, and kms:Decrypt on its key in that region, which Secrets Manager requests for the caller
(kms:ViaService `secretsmanager.<region>.amazonaws.com`, kms:CallerAccount the caller's account, the
encryption context's SecretARN the secret: "How Secrets Manager uses AWS KMS", Secrets Manager User
Guide, https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html). So a
caller reads a secret in a region when
- the secret's resource policy allows it (a caller of another account), or nothing in it denies it
  (a caller of the secret's own account, whose IAM policies may allow it on their own), and
- the key policy of the secret's key in that region allows kms:Decrypt for it (a key policy must allow
  every use, in the key's own account too: "Key policies in AWS KMS", KMS Developer Guide); an account
  named as principal hands the decision to that account's IAM policies.

What is evaluated is the resource side, every caller's own IAM policy taken to allow the request (what
`consumer-policy` prints): the access a change to the layout gives or takes away. The evaluation is
iam.py's; the callers are those the documents single out (`candidates`), the rest of each account
named, the security account as a whole, another account of the organization and an account outside it.
A key this stack does not make (`kms.keys`, another stack's key) has a policy this tool cannot read:
reads through it are reported as depending on it. The AWS managed key serves its own account only.

Capabilities: GetSecretValue without a stage (the current value, what SDK clients, ECS and the caching
library send) and naming each staging label, then every other Secrets Manager action on a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from secrets_layout.engine.recorded_values import RegisteredResource
from secrets_layout.policies.resource_policy import PolicyDocumentError, account_of
from secrets_layout.review.deployment import Deployment, KeyPlace, SecretPlace, digest, policy_text, read_deployment
from secrets_layout.review.iam import (
    ABSENT,
    ALLOWED,
    NOT_ALLOWED,
    Caller,
    Outcome,
    Policy,
    Request,
    both,
    glob_matches,
    mentioned_values,
    negated,
    policy_of,
)

READ = "GetSecretValue"
STAGES = ("AWSCURRENT", "AWSPREVIOUS", "AWSPENDING")
READS = (READ, *(f"{READ} {stage}" for stage in STAGES))
"""GetSecretValue naming no stage, then naming each staging label."""
OTHER_ACTIONS = (
    "DescribeSecret", "GetResourcePolicy", "ListSecretVersionIds", "PutSecretValue", "UpdateSecret",
    "UpdateSecretVersionStage", "RotateSecret", "CancelRotateSecret", "PutResourcePolicy", "DeleteResourcePolicy",
    "ValidateResourcePolicy", "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource",
    "ReplicateSecretToRegions", "RemoveRegionsFromReplication", "StopReplicationToReplica",
)
"""Secrets Manager's other actions on a secret (Service Authorization Reference, "Actions defined by AWS
Secrets Manager", resource type `Secret`)."""
CAPABILITIES = (*READS, *OTHER_ACTIONS)

ANY_OTHER = "any other principal"
ANY_PRINCIPAL = "any principal its IAM policies allow"
SYNTHETIC_OTHER_ORGANIZATION = "o-aaaaaaaaaa"
"""The organization of the outside caller: any other than the one the policies name."""


@dataclass(frozen=True, order=True)
class Reader:
    """A caller as the report names it: an account (or a class of accounts) and a principal in it."""

    account: str
    """A 12-digit ID, or a class: `another account of <org>`, `an account outside <org>`, `another account`."""
    principal: str
    """An ARN, an ARN pattern a policy names, or a class: `any other principal`, `any principal its IAM policies allow`."""


@dataclass(frozen=True)
class Access:
    secret: str
    region: str
    reader: Reader
    actions: tuple[str, ...]
    """What it may do, in CAPABILITIES order."""
    depends_on: tuple[str, ...] = ()
    """What the answer hangs on beyond the documents: condition keys of the request, a key policy not in the stack."""


@dataclass
class AccessMap:
    """Who can do what on each secret of one deployment, and the callers it was evaluated for."""

    rows: dict[tuple[str, str], list[Access]] = field(default_factory=dict)
    """(secret, region) -> a row per reader that may do anything, in candidate order."""
    accounts: dict[str, frozenset[str]] = field(default_factory=dict)
    """secret -> the accounts its documents name (and its own): the others are `another account`."""
    organization: str | None = None
    problems: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    """secret -> the digest of everything its access was computed from (the same inputs give the same rows)."""

    @property
    def places(self) -> list[tuple[str, str]]:
        return list(self.rows)

    def answer(self, secret: str, region: str, reader: Reader) -> Access | None:
        """The row that holds for `reader`: its own, else the pattern or the rest of its account it falls
        under, else the class of accounts it belongs to here; None when it may do nothing."""
        rows = self.rows.get((secret, region), [])
        by_reader = {row.reader: row for row in rows}
        if reader in by_reader:
            return by_reader[reader]
        if reader.principal.startswith("arn:"):
            for row in rows:
                if row.reader.account == reader.account and "*" in row.reader.principal and row.reader.principal.startswith(
                        "arn:") and glob_matches(row.reader.principal, reader.principal):
                    return row
        if reader.account in self.accounts.get(secret, ()):
            return by_reader.get(Reader(reader.account, ANY_OTHER)) or by_reader.get(Reader(reader.account, ANY_PRINCIPAL))
        if re.fullmatch(r"[0-9]{12}", reader.account):
            return by_reader.get(Reader(_another_account(self.organization), ANY_PRINCIPAL))
        return None

    def answer_for(self, secret: str, region: str, caller: Caller) -> Access | None:
        """`answer` for a caller of any account: one of an account the documents do not name belongs to
        the organization's other accounts when it is in the organization, else to those outside it
        (an account the documents name is taken to be in the organization they name)."""
        named = caller.account in self.accounts.get(secret, ())
        if named or self.organization is None or caller.organization == self.organization:
            return self.answer(secret, region, Reader(caller.account, caller.arn))
        outside = "an account in no organization" if caller.organization is None else f"an account outside {self.organization}"
        return next((row for row in self.rows.get((secret, region), []) if row.reader == Reader(outside, ANY_PRINCIPAL)),
                    None)


def who_can_read(resources: Sequence[RegisteredResource], account: str, *, known: AccessMap | None = None) -> AccessMap:
    """Every (secret, region, reader) with what the reader may do. `account`: the account of resources
    whose ARN the simulation does not give. A policy that is not a document is a problem, not a crash.
    `known`: another deployment's map, whose rows are taken for a secret computed from the same inputs
    (the base of a pull request differs from its head in a few secrets)."""
    deployment = read_deployment(resources, account)
    organization = _organization(deployment)
    found = AccessMap(organization=organization)
    for secret in deployment.secrets:
        inputs = _inputs_of(secret, deployment, organization)
        found.inputs[secret.name] = inputs
        # A secret without rows there (a problem) is evaluated again: the same problem here.
        if known is not None and known.inputs.get(secret.name) == inputs and secret.name in known.accounts:
            found.accounts[secret.name] = known.accounts[secret.name]
            found.rows.update({(secret.name, region): known.rows[(secret.name, region)] for region, _ in secret.keys})
            continue
        try:
            rows, accounts = _secret_access(secret, deployment, organization)
        except PolicyDocumentError as error:
            found.problems.append(f"{secret.name}: a policy is not a readable document ({error}); "
                                  "its access is not shown")
            continue
        found.accounts[secret.name] = accounts
        for region, _ in secret.keys:
            found.rows[(secret.name, region)] = [row for row in rows if row.region == region]
    return found


def _inputs_of(secret: SecretPlace, deployment: Deployment, organization: str | None) -> str:
    """The digest of everything the secret's access is computed from (its keys' policies by their digest,
    made once per key)."""
    keys = [(region, reference, None if (key := deployment.key_for(reference)) is None else (key.arn, key.policy_digest))
            for region, reference in secret.keys]
    return digest((secret.name, secret.arn, secret.account, policy_text(secret.policy), secret.rotation_lambda, keys,
                   organization))


def _organization(deployment: Deployment) -> str | None:
    """The organization the policies name (aws:PrincipalOrgID), the first in sorted order if several."""
    found = set()
    documents = [secret.policy for secret in deployment.secrets] + [key.policy_text for key in deployment.keys.values()]
    for document in documents:
        try:
            policy = _policy(document)
        except PolicyDocumentError:
            continue  # reported with the secret it belongs to
        for statement in policy.statements if policy else ():
            found.update(str(value) for condition in statement.conditions if condition.key == "aws:principalorgid"
                         for value in condition.values)
    return min(found) if found else None


def _policy(document: Any) -> Policy | None:
    if document is None or not isinstance(document, str | Mapping):
        return None
    return policy_of(document)


# -- The callers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    reader: Reader
    caller: Caller


def candidates(secret: SecretPlace, secret_policy: Policy | None, key_policies: Iterable[Policy],
               organization: str | None, rest_may_read: Callable[[str], bool] = lambda account: True) -> list[Candidate]:
    """The callers whose access may differ: each principal the secret policy names; each principal a key
    policy names in an account whose other principals the secret policy may let read (`rest_may_read`: a
    principal the secret policy does not single out reads only where the rest of its account may); each
    such account's root and the rest of it as one; the secret's own account as one; another account of the
    organization, and an account outside it."""
    named_secret = _named(secret_policy)
    named = set(named_secret)
    for policy in key_policies:
        # By account: a key policy names every reader of every secret it encrypts, most of them in
        # accounts the secret policy keeps out (one check per account, not per name: per secret, not per layout).
        for account, pairs in _named_by_account(policy).items():
            if rest_may_read(account):
                named.update(pairs)
    accounts = {account for account, _ in named} | {secret.account}
    found = []
    for account, principal in sorted(named):
        if account == secret.account and principal.endswith(":root"):
            continue  # the secret's own account as a whole, below
        found.append(Candidate(Reader(account, principal), Caller(principal, account, organization)))
    for account in sorted(accounts):
        if account == secret.account:
            found.append(Candidate(Reader(account, ANY_PRINCIPAL),
                                   Caller(f"arn:aws:iam::{account}:role/*", account, organization)))
            continue
        root = f"arn:aws:iam::{account}:root"
        if (account, root) not in named:
            found.append(Candidate(Reader(account, root), Caller(root, account, organization)))
        found.append(Candidate(Reader(account, ANY_OTHER), Caller(f"arn:aws:iam::{account}:role/*", account, organization)))
    another = "*" * 12
    anyone = f"arn:aws:iam::{another}:role/*"
    found.append(Candidate(Reader(_another_account(organization), ANY_PRINCIPAL), Caller(anyone, another, organization)))
    if organization is not None:
        found.append(Candidate(Reader(f"an account outside {organization}", ANY_PRINCIPAL),
                               Caller(anyone, another, SYNTHETIC_OTHER_ORGANIZATION)))
        found.append(Candidate(Reader("an account in no organization", ANY_PRINCIPAL), Caller(anyone, another, None)))
    return found


def _another_account(organization: str | None) -> str:
    return f"another account of {organization}" if organization else "another account"


@lru_cache(maxsize=4096)
def _named_by_account(policy: Policy) -> dict[str, frozenset[tuple[str, str]]]:
    by_account: dict[str, set[tuple[str, str]]] = {}
    for account, principal in _named(policy):
        by_account.setdefault(account, set()).add((account, principal))
    return {account: frozenset(pairs) for account, pairs in by_account.items()}


@lru_cache(maxsize=4096)
def _named(policy: Policy | None) -> frozenset[tuple[str, str]]:
    """(account, principal ARN or ARN pattern) of every IAM principal the policy names, in Principal or in a
    positive aws:PrincipalArn condition; an account alone as its root."""
    found: set[tuple[str, str]] = set()
    for statement in policy.statements if policy else ():
        for principal in (*statement.principals, *statement.not_principals):
            account = principal.account
            if principal.kind != "AWS" or account is None:
                continue
            found.add((account, principal.value if principal.value.startswith("arn:") else f"arn:aws:iam::{account}:root"))
        for condition in statement.conditions:
            if condition.key == "aws:principalarn" and "not" not in condition.op:
                for value in condition.values:
                    account = account_of(value) if isinstance(value, str) else None
                    if account is not None:
                        found.add((account, value))
            if condition.key in ("aws:principalaccount", "kms:calleraccount") and "not" not in condition.op:
                found.update((value, f"arn:aws:iam::{value}:root") for value in condition.values
                             if isinstance(value, str) and re.fullmatch(r"[0-9]{12}", value))
    return frozenset(found)


# -- The evaluation -------------------------------------------------------------------------------

def _secret_access(secret: SecretPlace, deployment: Deployment, organization: str | None
                   ) -> tuple[list[Access], frozenset[str]]:
    secret_policy = _policy(secret.policy)
    keys = {region: deployment.key_for(reference) for region, reference in secret.keys}
    key_policies = [policy for key in keys.values() if key is not None for policy in [_policy(key.policy_text)] if policy]
    on_secret = _SecretSide(secret, secret_policy)
    regions = [region for region, _ in secret.keys]

    @lru_cache(maxsize=None)
    def rest_may_read(account: str) -> bool:
        rest = Caller(f"arn:aws:iam::{account}:role/*", account, organization)
        return any(outcome.value is not False for region in regions
                   for capability, outcome in on_secret.outcomes(rest, region) if capability in READS)

    found = []
    evaluated = candidates(secret, secret_policy, key_policies, organization, rest_may_read)
    for candidate in evaluated:
        for region, reference in secret.keys:
            outcomes = on_secret.outcomes(candidate.caller, region)
            if any(outcome.value is not False for capability, outcome in outcomes if capability in READS):
                decrypt = _decrypt(secret, region, reference, keys[region], candidate.caller)
                outcomes = [(capability, both(outcome, decrypt) if capability in READS else outcome)
                            for capability, outcome in outcomes]
            granted = tuple(capability for capability, outcome in outcomes if outcome.value is not False)
            # A principal the documents name keeps its row when it may do nothing: it is then told
            # apart from the rest of its account, which may do more.
            if granted or _singled_out(candidate.reader):
                depends = sorted({key for _, outcome in outcomes if outcome.value is None for key in outcome.depends_on})
                found.append(Access(secret.name, region, candidate.reader, granted, tuple(depends)))
    accounts = frozenset(candidate.reader.account for candidate in evaluated
                         if re.fullmatch(r"[0-9]{12}", candidate.reader.account))
    return _without_repeats(found), accounts


class _SecretSide:
    """What the secret's resource policy lets a caller do in one region (its keys aside).

    A caller the policy does not single out (its ARN is written nowhere in it, no pattern in it matches
    it) is answered like every other principal of its account: evaluated once per account and region."""

    def __init__(self, secret: SecretPlace, policy: Policy | None):
        self.secret, self.policy = secret, policy
        written = mentioned_values([policy]) if policy is not None else frozenset()
        self._written = written
        self._patterns = [value for value in written if "*" in value or "?" in value]
        self._answers: dict[tuple, list[tuple[str, Outcome]]] = {}

    def outcomes(self, caller: Caller, region: str) -> list[tuple[str, Outcome]]:
        singled_out = caller.arn in self._written or any(glob_matches(pattern, caller.arn) for pattern in self._patterns)
        same_everywhere = self.policy is None or self.policy.region_free
        key = (caller.arn if singled_out else "the rest", caller.account, caller.organization,
               None if same_everywhere else region)
        if key not in self._answers:
            self._answers[key] = self._evaluate(caller, region)
        return self._answers[key]

    def _evaluate(self, caller: Caller, region: str) -> list[tuple[str, Outcome]]:
        secret, policy = self.secret, self.policy
        own_account = caller.account == secret.account
        if policy is None:
            return [(capability, ALLOWED if own_account else NOT_ALLOWED) for capability in CAPABILITIES]
        arn = secret.arn_in(region)
        context = {
            "aws:principalisawsservice": "false", "aws:securetransport": "true", "aws:requestedregion": region,
            "secretsmanager:secretid": arn, "secretsmanager:versionid": ABSENT,
            "secretsmanager:resource/allowrotationlambdaarn": secret.rotation_lambda or ABSENT,
        }
        unstaged = [READ, *OTHER_ACTIONS]
        verdicts = dict(zip(unstaged, policy.verdicts(
            Request(caller, "", arn, {**context, "secretsmanager:versionstage": ABSENT}),
            [f"secretsmanager:{action}" for action in unstaged]), strict=True))
        for stage in STAGES:
            verdicts[f"{READ} {stage}"] = policy.verdict(
                Request(caller, f"secretsmanager:{READ}", arn, {**context, "secretsmanager:versionstage": stage}))
        # The caller's own account: its IAM policies may allow what the resource policy does not name.
        return [(capability, negated(verdicts[capability].deny) if own_account
                 else both(verdicts[capability].allow, negated(verdicts[capability].deny)))
                for capability in CAPABILITIES]


def _decrypt(secret: SecretPlace, region: str, reference: str | None, key: KeyPlace | None, caller: Caller) -> Outcome:
    """kms:Decrypt by Secrets Manager for the caller, on the secret's key in this region."""
    if reference is None:
        # The AWS managed key aws/secretsmanager: its policy serves its own account only.
        return ALLOWED if caller.account == secret.account else NOT_ALLOWED
    key_policy = _policy(key.policy_text) if key is not None else None
    if key is None or key_policy is None:
        return Outcome(None, frozenset({f"the key policy of {reference}"}))
    context = {
        "aws:principalisawsservice": "false", "aws:securetransport": "true", "aws:requestedregion": region,
        "kms:viaservice": f"secretsmanager.{region}.amazonaws.com", "kms:calleraccount": caller.account,
        "kms:encryptioncontext:secretarn": secret.arn_in(region),
    }
    verdict = key_policy.verdict(Request(caller, "kms:Decrypt", key.arn, context))
    return both(verdict.allow, negated(verdict.deny))


def _singled_out(reader: Reader) -> bool:
    return reader.principal.startswith("arn:")


def _without_repeats(found: list[Access]) -> list[Access]:
    """A principal whose access is exactly the rest of its account's (both nothing, say) adds nothing."""
    rest = {(access.secret, access.region, access.reader.account): access for access in found
            if not _singled_out(access.reader)}
    kept = []
    for access in found:
        other = rest.get((access.secret, access.region, access.reader.account))
        same = (other.actions, other.depends_on) if other is not None else ((), ())
        if _singled_out(access.reader) and same == (access.actions, access.depends_on):
            continue
        kept.append(access)
    return kept
