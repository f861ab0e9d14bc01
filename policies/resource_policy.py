"""Analysis of Secrets Manager resource policies (IAM policy documents).

Pure (standard library only).  Handles what real policies contain:

- the document as a JSON string or as an object; ``Statement`` as one object or a list;
- ``Principal`` as ``"*"``, or a map whose ``AWS`` entry is a string or a list of account IDs,
  account root ARNs (``arn:aws:iam::111111111111:root``), role/user/assumed-role ARNs, in any
  partition (``aws``, ``aws-cn``, ``aws-us-gov``); ``Service``/``Federated``/``CanonicalUser``;
- ``NotPrincipal`` (an Allow with ``NotPrincipal`` grants everyone it does not name);
- ``Condition`` blocks that limit a grant to everyone (keys are case-insensitive, as in IAM): who
  calls (``aws:PrincipalOrgID``, ``aws:PrincipalOrgPaths``, ``aws:PrincipalAccount``,
  ``aws:PrincipalArn``, and in key policies ``kms:CallerAccount``), and for Secrets Manager the
  request's fixed sources it accepts as not public (``aws:SourceAccount``, ``aws:SourceArn``,
  ``aws:SourceVpc``, ``aws:SourceVpce``). Only an equality operator with literal values limits:
  ``...IfExists`` and ``ForAllValues:`` are true when the key is missing from the request (an anonymous
  caller, or one outside any organization, has no ``aws:PrincipalOrgID``), and a wildcard value
  matches more than it names (IAM JSON policy reference, "Condition operators").
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = [
    "PolicyDocumentError",
    "Statement",
    "PrincipalRef",
    "parse_policy",
    "public_grants",
    "limits_grant",
    "KEY_POLICY_CALLER_KEYS",
    "SECRET_POLICY_LIMITING_KEYS",
    "allow_principal_accounts",
    "find_deny_outside",
]

ACCOUNT_RE = re.compile(r"[0-9]{12}", re.ASCII)
ORG_ID_RE = re.compile(r"o-[a-z0-9]{10,32}", re.ASCII)
_ARN_RE = re.compile(r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)",
                     re.ASCII | re.DOTALL)

PRINCIPAL_KEYS = ("aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn")
KEY_POLICY_CALLER_KEYS = (*PRINCIPAL_KEYS, "kms:calleraccount")
"""What limits who may use a KMS key ("Allowing users in other accounts to use a KMS key", KMS Developer
Guide: kms:CallerAccount names the caller's account)."""
SECRETS_MANAGER_SOURCE_KEYS = ("aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount")
"""The fixed values Secrets Manager's BlockPublicPolicy accepts as not public: "the resource-based policy
must only grant access to one or more of the following fixed values: aws:SourceArn, aws:SourceVpc,
aws:SourceVpce, aws:SourceAccount" (Secrets Manager User Guide, "Resource-based policies",
https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_secret-policy.html)."""
SECRET_POLICY_LIMITING_KEYS = (*PRINCIPAL_KEYS, *SECRETS_MANAGER_SOURCE_KEYS)
# Operators that make a positive match on the key; a missing key makes them false.
_POSITIVE_OPERATORS = {
    "stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike",
    "foranyvalue:stringequals", "foranyvalue:stringequalsignorecase", "foranyvalue:stringlike",
    "foranyvalue:arnequals", "foranyvalue:arnlike",
}
# Negated operators: true for every principal that does NOT match (and for a missing key).
_NEGATED_OPERATORS = {
    "stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike",
    "stringnotequalsifexists", "stringnotequalsignorecaseifexists", "stringnotlikeifexists",
    "arnnotequalsifexists", "arnnotlikeifexists",
    "forallvalues:stringnotequals", "forallvalues:stringnotlike",
}
_SECRET_READ_ACTION = "secretsmanager:getsecretvalue"


class PolicyDocumentError(ValueError):
    """The policy is not a readable IAM policy document."""


@dataclass(frozen=True)
class PrincipalRef:
    """One entry of a ``Principal``/``NotPrincipal`` block."""

    kind: str          # "AWS", "Service", "Federated", "CanonicalUser" or "*" (the bare wildcard)
    value: str

    @property
    def is_everyone(self) -> bool:
        """``"*"`` or ``{"AWS": "*"}``: every principal, including anonymous ones."""
        return self.value == "*" and self.kind in ("*", "AWS")

    @property
    def account(self) -> Optional[str]:
        """The 12-digit account of an ``AWS`` principal, or None when it has none that is literal."""
        if self.kind != "AWS":
            return None
        return account_of(self.value)

    @property
    def is_any_account(self) -> bool:
        """An ``AWS`` principal whose account is a wildcard (``*``, ``arn:aws:iam::*:root``)."""
        if self.kind not in ("AWS", "*"):
            return False
        if self.value == "*":
            return True
        match = _ARN_RE.fullmatch(self.value)
        return bool(match and ("*" in match.group("account") or "?" in match.group("account")))


@dataclass(frozen=True)
class Condition:
    operator: str      # as written
    key: str           # lower case
    values: Tuple[Any, ...]
    name: str = ""     # the key as written (IAM compares keys case-insensitively; a reader wants the original)

    @property
    def op(self) -> str:
        return self.operator.lower()


@dataclass(frozen=True)
class Statement:
    index: int
    sid: Optional[str]
    effect: str
    principals: Tuple[PrincipalRef, ...] = ()
    not_principals: Tuple[PrincipalRef, ...] = ()
    actions: Tuple[str, ...] = ()
    not_actions: Tuple[str, ...] = ()
    conditions: Tuple[Condition, ...] = ()
    has_principal: bool = False
    has_not_principal: bool = False
    resources: Tuple[str, ...] = ()
    not_resources: Tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")


def account_of(value: str) -> Optional[str]:
    """The literal account of an account ID or an IAM/STS ARN (``None`` if not literal)."""
    if ACCOUNT_RE.fullmatch(value):
        return value
    match = _ARN_RE.fullmatch(value)
    if match and ACCOUNT_RE.fullmatch(match.group("account")):
        return match.group("account")
    return None


def _strings(value: Any, where: str) -> Tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyDocumentError(f"{where} must be a string or a list of strings")


def _principals(value: Any, where: str) -> Tuple[PrincipalRef, ...]:
    if value == "*":
        return (PrincipalRef("*", "*"),)
    if not isinstance(value, Mapping):
        raise PolicyDocumentError(f"{where} must be \"*\" or a map such as {{\"AWS\": [...]}}")
    refs = []
    for kind, entries in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyDocumentError(f"{where} has an unknown principal type {kind!r}")
        refs.extend(PrincipalRef(kind, entry) for entry in _strings(entries, f"{where}.{kind}"))
    return tuple(refs)


def _conditions(value: Any, where: str) -> Tuple[Condition, ...]:
    if not isinstance(value, Mapping):
        raise PolicyDocumentError(f"{where} must be a map of operator -> {{key: value}}")
    result = []
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            raise PolicyDocumentError(f"{where}.{operator} must be a map of key -> value")
        for key, values in block.items():
            listed = tuple(values) if isinstance(values, (list, tuple)) else (values,)
            result.append(Condition(str(operator), str(key).lower(), listed, str(key)))
    return tuple(result)


def parse_policy(document: Any) -> List[Statement]:
    """Parse a policy given as a JSON string or an object into its statements."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            raise PolicyDocumentError(f"the policy is not valid JSON ({error})") from None
    if not isinstance(document, Mapping):
        raise PolicyDocumentError("the policy must be a JSON object with a Statement")
    raw = document.get("Statement")
    if raw is None:
        raise PolicyDocumentError("the policy has no Statement")
    raw_list = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw_list, (list, tuple)):
        raise PolicyDocumentError("Statement must be an object or a list of objects")
    statements = []
    for index, item in enumerate(raw_list):
        where = f"Statement[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyDocumentError(f"{where} must be an object")
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyDocumentError(f"{where}.Effect must be \"Allow\" or \"Deny\"")
        if "Principal" in item and "NotPrincipal" in item:
            raise PolicyDocumentError(f"{where} has both Principal and NotPrincipal")
        sid = item.get("Sid")
        statements.append(Statement(
            index=index,
            sid=sid if isinstance(sid, str) and sid else None,
            effect=effect,
            principals=_principals(item["Principal"], f"{where}.Principal") if "Principal" in item else (),
            not_principals=_principals(item["NotPrincipal"], f"{where}.NotPrincipal") if "NotPrincipal" in item else (),
            actions=_strings(item["Action"], f"{where}.Action") if "Action" in item else (),
            not_actions=_strings(item["NotAction"], f"{where}.NotAction") if "NotAction" in item else (),
            conditions=_conditions(item["Condition"], f"{where}.Condition") if "Condition" in item else (),
            has_principal="Principal" in item,
            has_not_principal="NotPrincipal" in item,
            resources=_strings(item["Resource"], f"{where}.Resource") if "Resource" in item else (),
            not_resources=_strings(item["NotResource"], f"{where}.NotResource") if "NotResource" in item else (),
        ))
    return statements


# --------------------------------------------------------------------------------------------
# Conditions that pin the caller to an organization or to accounts
# --------------------------------------------------------------------------------------------


def _literal_account_pattern(value: Any) -> Optional[str]:
    """The account a principal ARN pattern pins (``arn:aws:iam::123456789012:role/*``), else None."""
    if not isinstance(value, str):
        return None
    return account_of(value)


_WILDCARDS = frozenset("*?")
_VPC_RE = re.compile(r"vpc-[0-9a-f]+", re.ASCII)
_VPCE_RE = re.compile(r"vpce-[0-9a-f]+", re.ASCII)


def _fixed(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not _WILDCARDS.intersection(value) and "${" not in value


_LIMITING_VALUE = {
    "aws:principalorgid": lambda v: isinstance(v, str) and bool(ORG_ID_RE.fullmatch(v)),
    "aws:principalorgpaths": lambda v: isinstance(v, str) and bool(ORG_ID_RE.fullmatch(v.split("/", 1)[0])),
    "aws:principalaccount": lambda v: isinstance(v, str) and bool(ACCOUNT_RE.fullmatch(v)),
    "kms:calleraccount": lambda v: isinstance(v, str) and bool(ACCOUNT_RE.fullmatch(v)),
    "aws:principalarn": lambda v: _literal_account_pattern(v) is not None,
    "aws:sourceaccount": lambda v: isinstance(v, str) and bool(ACCOUNT_RE.fullmatch(v)),
    "aws:sourcearn": lambda v: _fixed(v) and bool(_ARN_RE.fullmatch(v)),
    "aws:sourcevpc": lambda v: isinstance(v, str) and bool(_VPC_RE.fullmatch(v)),
    "aws:sourcevpce": lambda v: isinstance(v, str) and bool(_VPCE_RE.fullmatch(v)),
}
"""Per key, the values that name one organization, account, principal's account or source: the org ID of
an OrgPaths entry and the account of a PrincipalArn must be literal (the rest may be a pattern); the
other keys' values must be literal as a whole."""


def limits_grant(condition: Condition, keys: Sequence[str]) -> bool:
    """True when the condition, one of ``keys`` with an equality operator, lets only the named
    organization, accounts, principals or sources through."""
    if condition.key not in keys or condition.op not in _POSITIVE_OPERATORS or not condition.values:
        return False
    accepted = _LIMITING_VALUE.get(condition.key)
    return accepted is not None and all(accepted(value) for value in condition.values)


def _condition_accounts(statement: Statement) -> Tuple[List[str], List[str]]:
    """Accounts named by positive aws:PrincipalAccount / aws:PrincipalArn conditions, and values
    whose account cannot be read."""
    accounts, unreadable = [], []
    for condition in statement.conditions:
        if condition.op not in _POSITIVE_OPERATORS:
            continue
        if condition.key in ("aws:principalaccount", "aws:principalarn"):
            for value in condition.values:
                account = _literal_account_pattern(value) if isinstance(value, str) else None
                (accounts if account else unreadable).append(account or str(value))
    return accounts, unreadable


# --------------------------------------------------------------------------------------------
# Questions the policies ask
# --------------------------------------------------------------------------------------------


def public_grants(statements: Sequence[Statement],
                  limiting_keys: Sequence[str] = SECRET_POLICY_LIMITING_KEYS) -> List[Tuple[Statement, str]]:
    """Allow statements that grant to everyone (or any account) without a condition on one of
    ``limiting_keys`` that limits the grant (:func:`limits_grant`); each with a short reason."""
    found = []
    for statement in statements:
        if statement.effect != "Allow":
            continue
        if statement.has_not_principal:
            reason = "Allow with NotPrincipal grants every principal it does not name"
        elif any(p.is_everyone for p in statement.principals):
            reason = "Principal \"*\" grants every AWS principal, including anonymous callers"
        elif any(p.is_any_account for p in statement.principals):
            wildcard = next(p.value for p in statement.principals if p.is_any_account)
            reason = f"principal {wildcard!r} matches every AWS account"
        else:
            continue
        if any(limits_grant(c, limiting_keys) for c in statement.conditions):
            continue
        found.append((statement, reason))
    return found


@dataclass
class AccountsInAllows:
    accounts: Dict[str, List[str]] = field(default_factory=dict)     # account -> where it appears
    unreadable: List[str] = field(default_factory=list)               # principals with no literal account


def allow_principal_accounts(statements: Sequence[Statement]) -> AccountsInAllows:
    """Every account an Allow statement grants to: AWS principals (IDs and ARNs) and the accounts of
    positive aws:PrincipalAccount / aws:PrincipalArn conditions.  Service principals are skipped;
    wildcard principals are left to :func:`public_grants`."""
    result = AccountsInAllows()
    for statement in statements:
        if statement.effect != "Allow":
            continue
        for principal in statement.principals:
            if principal.kind not in ("AWS", "Federated") or principal.is_everyone or principal.is_any_account:
                continue
            account = account_of(principal.value)
            if account is None:
                if principal.kind == "AWS":
                    result.unreadable.append(principal.value)
                continue
            result.accounts.setdefault(account, []).append(statement.label)
        accounts, unreadable = _condition_accounts(statement)
        for account in accounts:
            result.accounts.setdefault(account, []).append(statement.label)
        result.unreadable.extend(unreadable)
    return result


def _covers_secret_read(statement: Statement) -> bool:
    if statement.actions:
        return any(fnmatch.fnmatchcase(_SECRET_READ_ACTION, a.lower()) for a in statement.actions)
    if statement.not_actions:
        return not any(fnmatch.fnmatchcase(_SECRET_READ_ACTION, a.lower()) for a in statement.not_actions)
    return False


_HARMLESS_EXTRA_KEYS = ("aws:principalisawsservice", "aws:viaawsservice")


def find_deny_outside(statements: Sequence[Statement]) -> Tuple[Optional[Statement], List[str]]:
    """The Deny statement that blocks principals outside an organization or a set of accounts.

    Accepted shapes: ``Principal "*"`` (or ``{"AWS": "*"}``) with a negated condition
    (``StringNotEquals``/``StringNotLike``/``ArnNotLike``...) on aws:PrincipalOrgID,
    aws:PrincipalOrgPaths, aws:PrincipalAccount or aws:PrincipalArn, or a ``NotPrincipal`` that names
    only AWS accounts/ARNs.  The statement must cover ``secretsmanager:GetSecretValue`` and must not
    be narrowed by other conditions (aws:PrincipalIsAWSService / aws:ViaAWSService exceptions are
    fine).  Returns the statement (or None) and, when none qualifies, why each Deny fell short.
    """
    notes = []
    for statement in statements:
        if statement.effect != "Deny":
            continue
        if not _covers_secret_read(statement):
            notes.append(f"{statement.label} does not cover secretsmanager:GetSecretValue")
            continue
        if statement.has_not_principal:
            if statement.not_principals and all(
                    p.kind == "AWS" and account_of(p.value) for p in statement.not_principals):
                return statement, []
            notes.append(f"{statement.label} uses NotPrincipal with entries that are not AWS accounts")
            continue
        if not any(p.is_everyone for p in statement.principals):
            notes.append(f"{statement.label} only denies the principals it names, not everyone outside")
            continue
        outside = [c for c in statement.conditions if c.key in PRINCIPAL_KEYS and c.op in _NEGATED_OPERATORS
                   and c.values]
        others = [c for c in statement.conditions if c not in outside and c.key not in _HARMLESS_EXTRA_KEYS]
        if not outside:
            notes.append(f"{statement.label} has no StringNotEquals condition on aws:PrincipalOrgID, "
                         "aws:PrincipalAccount or aws:PrincipalArn")
            continue
        if others:
            keys = ", ".join(sorted({c.key for c in others}))
            notes.append(f"{statement.label} is narrowed by other conditions ({keys})")
            continue
        return statement, []
    return None, notes
