"""IAM's evaluation of one request against one resource policy or key policy: our own, pure code.

It runs in users' CI, so it depends on nothing but the pack's parser (policies/resource_policy.py).
tests/test_review_access.py holds it to an independent evaluator (principalmapper) on a table of
changes. It follows "Policy evaluation logic" and its cross-account page in the IAM User Guide
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
.../reference_policies_evaluation-logic-cross-account.html) and the "IAM JSON policy elements"
reference for Principal, Action, Resource and Condition:

- a statement applies when its principal, action and resource match and every condition holds
  (operators ANDed, a key's values ORed); an explicit Deny that applies wins over every Allow;
- `Principal` names an account (its ID or `arn:...:root`: every principal of that account), a role
  or user ARN (that principal), or `*` (everyone); `NotPrincipal` applies to everyone it does not name;
- actions match case-insensitively with `*` and `?`; resources and ARN conditions match with `*`
  and `?` as written;
- conditions: String*, Arn*, Bool and Null, each with `...IfExists` and the `ForAnyValue:` /
  `ForAllValues:` qualifiers. A key missing from the request makes a positive operator false, a
  negated one (`StringNotEquals`, `ArnNotLike`, ...) true, `...IfExists` and `ForAllValues:` true
  ("Condition operators" and "Single-valued vs. multivalued context keys").

Three answers, not two: a request context holds the keys this tool knows (the caller, the action's
own keys, the secret's); a key it cannot know (the caller's network, tags, a time, an operator it
does not model such as `IpAddress` or `NumericLessThan`) makes the condition *unknown*, and the
answer then "depends on" those keys. A Deny that may apply does not take access away, an Allow that
may apply grants it, so a possible access is never hidden; the report names the keys it depends on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from secrets_layout.policies.resource_policy import Condition, PrincipalRef, Statement, account_of, parse_policy

Tri = bool | None
"""True, False, or None: it depends on what the request carries beyond what is known."""

ABSENT = None
"""A context value: the key is known to be missing from the request."""

_NEGATED = ("stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike")
_POSITIVE = ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "bool")
_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class Caller:
    """Who makes the request: an IAM principal of an account, in an organization or in none."""

    arn: str
    account: str
    organization: str | None = None


@dataclass(frozen=True)
class Outcome:
    value: Tri
    depends_on: frozenset[str] = frozenset()
    """Condition keys the request does not make known, on which an unknown answer hangs."""


ALLOWED, NOT_ALLOWED = Outcome(True), Outcome(False)


def both(*outcomes: Outcome) -> Outcome:
    """Kleene AND: false if any is false, else unknown if any is unknown."""
    if all(outcome is ALLOWED for outcome in outcomes):
        return ALLOWED
    if any(outcome.value is False for outcome in outcomes):
        return NOT_ALLOWED
    unknown = frozenset().union(*(outcome.depends_on for outcome in outcomes if outcome.value is None))
    return Outcome(None, unknown) if any(outcome.value is None for outcome in outcomes) else ALLOWED


def either(*outcomes: Outcome) -> Outcome:
    """Kleene OR: true if any is true, else unknown if any is unknown."""
    if not outcomes:
        return NOT_ALLOWED
    if any(outcome.value is True for outcome in outcomes):
        return ALLOWED
    unknown = frozenset().union(*(outcome.depends_on for outcome in outcomes if outcome.value is None))
    return Outcome(None, unknown) if any(outcome.value is None for outcome in outcomes) else NOT_ALLOWED


def negated(outcome: Outcome) -> Outcome:
    return Outcome(None if outcome.value is None else not outcome.value, outcome.depends_on)


@dataclass(frozen=True)
class Verdict:
    """What one policy says about one request: whether an Allow applies, and whether a Deny does."""

    allow: Outcome
    deny: Outcome


@dataclass(frozen=True)
class Request:
    caller: Caller
    action: str
    resource: str
    context: Mapping[str, str | None] = field(default_factory=dict)
    """Lower-case condition keys the request is known to carry (None: known to be missing). The
    caller's own keys (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID) come from `caller`."""

    def value(self, key: str) -> tuple[bool, str | None]:
        """(known, value) of a condition key; value None when the key is missing."""
        caller = self.caller
        if key == "aws:principalarn":
            return True, caller.arn
        if key == "aws:principalaccount":
            return True, caller.account
        if key == "aws:principalorgid":
            return True, caller.organization
        if key in self.context:
            return True, self.context[key]
        return False, None


class Policy:
    """A parsed resource or key policy, evaluated request by request."""

    def __init__(self, document: Any):
        self.statements = tuple(parse_policy(document))
        self._actions = {statement.index: _action_matcher(statement) for statement in self.statements}
        # What each statement's applying depends on, so that requests alike in it are judged once.
        self._keys = {statement.index: tuple(sorted({condition.key for condition in statement.conditions}))
                      for statement in self.statements}
        self._any_resource = {statement.index: statement.resources in ((), ("*",)) and not statement.not_resources
                              for statement in self.statements}
        # A key policy may list every secret of the layout in one condition: its values are read once.
        self._prepared = {id(condition): PreparedValues.of(condition)
                          for statement in self.statements for condition in statement.conditions}
        self._applying: dict[tuple, Outcome] = {}
        self._covered: dict[tuple[int, str], bool] = {}

    def verdict(self, request: Request) -> Verdict:
        return self.verdicts(request, (request.action,))[0]

    def verdicts(self, request: Request, actions: Iterable[str]) -> list[Verdict]:
        """One verdict per action, for requests that differ only in their action (each statement's
        principal, resource and conditions are judged once)."""
        applying = [(statement, self._applies(statement, request)) for statement in self.statements]
        applying = [(statement, outcome) for statement, outcome in applying if outcome.value is not False]
        found = []
        for action in actions:
            matching = [(statement.effect, outcome) for statement, outcome in applying
                        if self._covers(statement.index, action)]
            found.append(Verdict(either(*(outcome for effect, outcome in matching if effect == "Allow")),
                                 either(*(outcome for effect, outcome in matching if effect == "Deny"))))
        return found

    def _covers(self, index: int, action: str) -> bool:
        key = (index, action)
        covered = self._covered.get(key)
        if covered is None:
            covered = self._covered[key] = self._actions[index](action)
        return covered

    @property
    def region_free(self) -> bool:
        """Whether no statement tells one region's copy of a resource from another's: every Resource `*`
        and no condition on the requested region or the resource's ARN."""
        regional = {"aws:requestedregion", "secretsmanager:secretid", "kms:encryptioncontext:secretarn",
                    "kms:viaservice"}
        return all(self._any_resource.values()) and not any(regional & set(keys) for keys in self._keys.values())

    def _applies(self, statement: Statement, request: Request) -> Outcome:
        """Whether the statement applies to the request, its action aside."""
        key = (statement.index, request.caller, None if self._any_resource[statement.index] else request.resource,
               tuple(request.value(name) for name in self._keys[statement.index]))
        found = self._applying.get(key)
        if found is None:
            found = self._applying[key] = self._judge(statement, request)
        return found

    def _judge(self, statement: Statement, request: Request) -> Outcome:
        if not _resource_matches(statement, request.resource) or not principal_matches(statement, request.caller):
            return NOT_ALLOWED
        return both(*(condition_holds(condition, request, self._prepared[id(condition)])
                      for condition in statement.conditions))


def policy_of(document: Any) -> Policy:
    """`Policy(document)`, parsed once per document text (the layout repeats documents across secrets)."""
    return _parsed(document if isinstance(document, str) else json.dumps(document, sort_keys=True))


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Policy:
    return Policy(text)


# -- Principal, Action, Resource ------------------------------------------------------------------

def principal_matches(statement: Statement, caller: Caller) -> bool:
    if statement.has_not_principal:
        return not any(_names(principal, caller) for principal in statement.not_principals)
    return any(_names(principal, caller) for principal in statement.principals)


def _names(principal: PrincipalRef, caller: Caller) -> bool:
    """Whether a Principal entry names the caller. Service, federated and canonical-user principals
    never name an IAM principal; an account names every principal of it."""
    if principal.is_everyone:
        return True
    if principal.kind != "AWS":
        return False
    value = principal.value
    if re.fullmatch(r"[0-9]{12}", value) or value.endswith(":root"):
        account = account_of(value)
        return account is not None and account == caller.account or principal.is_any_account
    return glob_matches(value, caller.arn)


def _action_matcher(statement: Statement):
    listed = statement.actions or statement.not_actions
    patterns = [_glob(action.lower()) for action in listed]
    inverted = not statement.actions and bool(statement.not_actions)

    def matches(action: str) -> bool:
        found = any(pattern.fullmatch(action.lower()) for pattern in patterns)
        return found != inverted
    return matches


def _resource_matches(statement: Statement, resource: str) -> bool:
    if statement.resources:
        return any(glob_matches(pattern, resource) for pattern in statement.resources)
    if statement.not_resources:
        return not any(glob_matches(pattern, resource) for pattern in statement.not_resources)
    return True  # a resource policy may leave Resource out: it is the resource it is attached to


@lru_cache(maxsize=8192)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards only: `*` any run of characters, `?` one character (nothing else is special)."""
    return re.compile("".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern),
                      re.DOTALL)


def glob_matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    if ignore_case:
        return bool(_glob(pattern.lower()).fullmatch(value.lower()))
    return bool(_glob(pattern).fullmatch(value))


# -- Conditions -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreparedValues:
    """A condition's values as the comparisons read them, computed once per condition."""

    variable: bool
    """A value holds a policy variable (${...}): the condition's answer is unknown."""
    literals: frozenset[str]
    """The values without IAM wildcards, as strings (a non-string value as its JSON)."""
    patterns: tuple[str, ...]
    """The values with a wildcard (`*`, `?`)."""

    @classmethod
    def of(cls, condition: Condition) -> PreparedValues:
        texts = [wanted if isinstance(wanted, str) else json.dumps(wanted) for wanted in condition.values]
        return cls(any(isinstance(wanted, str) and _VARIABLE.search(wanted) for wanted in condition.values),
                   frozenset(text for text in texts if "*" not in text and "?" not in text),
                   tuple(text for text in texts if "*" in text or "?" in text))

    def matched(self, operator: str, value: str) -> bool | None:
        """Whether a value matches, for the operators decided by set lookup; None for the others."""
        if operator == "stringequals":
            return value in self.literals or value in self.patterns
        if operator in ("stringlike", "arnequals", "arnlike"):
            return value in self.literals or any(glob_matches(pattern, value) for pattern in self.patterns)
        return None


def condition_holds(condition: Condition, request: Request, prepared: PreparedValues) -> Outcome:
    """prepared: the condition's values as `PreparedValues.of(condition)` reads them (once per policy)."""
    operator = condition.op
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("ifexists")
    base = base.removesuffix("ifexists")
    known, value = request.value(condition.key)
    unknown = Outcome(None, frozenset({condition.name or condition.key}))
    if not known or prepared.variable:
        return unknown
    if base == "null":
        wanted = {str(item).lower() for item in condition.values}
        return Outcome(("true" if value is None else "false") in wanted)
    if value is None:
        if if_exists or qualifier == "forallvalues":
            return ALLOWED
        if qualifier == "foranyvalue":
            return NOT_ALLOWED
        if base in _NEGATED:
            return ALLOWED
        return NOT_ALLOWED if base in _POSITIVE else unknown
    if base in _NEGATED:
        matched = prepared.matched(base.replace("not", "", 1), value)
        if matched is None:
            matched = any(_compares(base.replace("not", "", 1), wanted, value) for wanted in condition.values)
        return Outcome(not matched)
    if base in _POSITIVE:
        matched = prepared.matched(base, value)
        if matched is None:
            matched = any(_compares(base, wanted, value) for wanted in condition.values)
        return Outcome(matched)
    return unknown  # Numeric*, Date*, IpAddress, Binary*: not modelled


def _compares(operator: str, wanted: Any, value: str) -> bool:
    wanted = wanted if isinstance(wanted, str) else json.dumps(wanted)
    if operator == "stringequals":
        return wanted == value
    if operator == "stringequalsignorecase":
        return wanted.lower() == value.lower()
    if operator == "bool":
        return wanted.lower() == value.lower()
    # StringLike, ArnEquals and ArnLike all take IAM's wildcards.
    return glob_matches(wanted, value)


def mentioned_values(policies: Iterable[Policy]) -> frozenset[str]:
    """Every principal and condition value written in the policies: what may single out a caller."""
    found: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            found.update(principal.value for principal in (*statement.principals, *statement.not_principals))
            found.update(str(value) for condition in statement.conditions for value in condition.values)
    return frozenset(found)
