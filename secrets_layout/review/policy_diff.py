"""Policy documents compared statement by statement, as `cdk diff`'s "IAM Statement Changes" shows them.

A key policy, a secret's resource policy or an IAM policy arrives as one input (a JSON string, or an
object for aws-native); the engine only says that the input changed. Here both sides are parsed with
the pack's own parser (policies/resource_policy.py: the same reading the policies judge) and their
statements paired:

1. a statement found unchanged on the other side (same Sid, effect, principals, actions, resources and
   conditions) is left out;
2. the others pair by Sid, when the Sid names one statement on each side;
3. statements without a shared Sid (a renamed Sid included) pair by content: the pair with the same effect sharing most of
   their principals, actions, resources and conditions, when they share at least half of them;
4. what is left was added or removed.

A changed statement lists, per element, the values added and removed, and the principals and actions
it keeps (who and what a grant is about stay readable next to what changed). Values are as written in the document; a condition is one
value per `Operator key: value`. Nothing here judges what a change means for access: see access.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from secrets_layout.engine.recorded_values import SecretValue
from secrets_layout.policies.resource_policy import PolicyDocumentError, Statement, parse_policy
from secrets_layout.policies.resources import POLICY_DOCUMENT_INPUT, UNKNOWN_VALUES

IDENTITY_POLICY_INPUT: Mapping[str, str] = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws-native:iam:RolePolicy": "policyDocument",
    "aws-native:iam:ManagedPolicy": "policyDocument",
    "aws-native:iam:Role": "assumeRolePolicyDocument",
}
"""IAM policies (pulumi-aws 7 pulumi_aws/iam, pulumi-aws-native 1.x iam): their document input."""
POLICY_INPUTS: Mapping[str, str] = {**POLICY_DOCUMENT_INPUT, **IDENTITY_POLICY_INPUT}
"""Resource type -> the input holding its policy document: key policies, secret resource policies, IAM policies."""

ELEMENTS = ("sid", "effect", "principal", "not_principal", "action", "not_action", "resource", "not_resource", "condition")
"""A statement's elements, in the order a reader reads them."""
PAIRING_SIMILARITY = 0.5
"""Two statements without a shared Sid are one changed statement when they share this part of their values."""

StatementKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class ElementChange:
    element: str
    """One of ELEMENTS."""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatementChange:
    change: StatementKind
    sid: str | None
    effect: str
    """The statement's effect after the change (before it, for a removed statement)."""
    elements: tuple[ElementChange, ...]
    # Where it stands is not what it says: the same change at another position is the same change.
    before_index: int | None = field(default=None, compare=False)
    after_index: int | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """The statement's Sid, else its position (`#2`, counted from 1, on the side where it is)."""
        if self.sid:
            return self.sid
        index = self.after_index if self.after_index is not None else self.before_index
        return f"#{(index or 0) + 1}"

    def values(self, element: str) -> ElementChange:
        return next((change for change in self.elements if change.element == element), ElementChange(element))

    @property
    def weakens_deny(self) -> bool:
        """A Deny that is gone, turned into an Allow, or changed in a way that may let more through:
        fewer principals, actions or resources, more exceptions (NotPrincipal/NotAction/NotResource),
        or other conditions (a condition added to a Deny narrows it; which way a changed value goes
        depends on the operator, so any condition change is one to read)."""
        was_deny = self.change == "removed" and self.effect == "Deny" or "Deny" in self.values("effect").removed
        if was_deny:
            return True
        if self.change != "changed" or self.effect != "Deny":
            return False
        return (any(self.values(element).removed for element in ("principal", "action", "resource"))
                or any(self.values(element).added for element in ("not_principal", "not_action", "not_resource"))
                or bool(self.values("condition").added or self.values("condition").removed))


@dataclass(frozen=True)
class PolicyDiff:
    property: str
    """The input that holds the document (`policy`, `keyPolicy`, ...)."""
    statements: tuple[StatementChange, ...] = ()
    unreadable: str | None = None
    """Why the documents cannot be compared statement by statement (a secret value, not a policy document)."""


def policy_diffs(resource_type: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
                 ) -> tuple[PolicyDiff, ...]:
    """The statement changes of the resource's policy document between two sets of inputs (None: the
    resource does not exist on that side); empty when the type holds no policy or the documents agree."""
    name = POLICY_INPUTS.get(resource_type)
    if name is None:
        return ()
    old, new = (None if inputs is None else inputs.get(name) for inputs in (before, after))
    if old is None and new is None:
        return ()
    problem = _unreadable(old) or _unreadable(new)
    if problem is not None:
        return () if _same_value(old, new) else (PolicyDiff(name, unreadable=problem),)
    try:
        changes = diff_documents(old, new)
    except PolicyDocumentError as error:
        return () if _same_value(old, new) else (PolicyDiff(name, unreadable=f"not a policy document ({error})"),)
    return (PolicyDiff(name, changes),) if changes else ()


def _unreadable(value: Any) -> str | None:
    if isinstance(value, SecretValue):
        return "a secret value: not shown"
    if isinstance(value, str) and (value in UNKNOWN_VALUES or value == "[unknown]"):
        return "not known before the deployment"
    return None


def _same_value(old: Any, new: Any) -> bool:
    if isinstance(old, SecretValue) and isinstance(new, SecretValue):
        return old.reveal() == new.reveal()  # compared in memory only, never shown
    return old == new


def diff_documents(before: Any, after: Any) -> tuple[StatementChange, ...]:
    """Statement changes from `before` to `after` (documents as JSON text or objects; None: no document).
    Raises PolicyDocumentError for a side that is not a policy document."""
    old = [_view(statement) for statement in (parse_policy(before) if before is not None else [])]
    new = [_view(statement) for statement in (parse_policy(after) if after is not None else [])]
    pairs, removed, added = _pair(old, new)
    changes = [_changed(old[i], new[j], i, j) for i, j in pairs]
    changes += [_whole("removed", old[i], before_index=i) for i in removed]
    changes += [_whole("added", new[j], after_index=j) for j in added]
    changes = [change for change in changes if change is not None]
    # In the order of the new document; a removed statement where it stood in the old one.
    return tuple(sorted(changes, key=lambda change: (change.after_index if change.after_index is not None
                                                      else (change.before_index or 0) - 0.5)))


@dataclass(frozen=True)
class _View:
    sid: str | None
    effect: str
    values: tuple[tuple[str, tuple[str, ...]], ...]
    """(element, its values), elements other than the effect, in ELEMENTS order."""

    def of(self, element: str) -> tuple[str, ...]:
        if element == "effect":
            return (self.effect,)
        if element == "sid":
            return (self.sid,) if self.sid else ()
        return next((values for name, values in self.values if name == element), ())

    @property
    def items(self) -> frozenset[tuple[str, str]]:
        return frozenset((element, value) for element, values in self.values for value in values) | {("effect", self.effect)}


def _view(statement: Statement) -> _View:
    values = {
        "principal": _principals(statement.principals),
        "not_principal": _principals(statement.not_principals),
        "action": statement.actions,
        "not_action": statement.not_actions,
        "resource": statement.resources,
        "not_resource": statement.not_resources,
        "condition": tuple(f"{condition.operator} {condition.name or condition.key}: {_text(value)}"
                           for condition in statement.conditions for value in condition.values),
    }
    return _View(statement.sid, statement.effect,
                 tuple((element, tuple(dict.fromkeys(found))) for element, found in values.items() if found))


def _principals(principals) -> tuple[str, ...]:
    return tuple("*" if principal.kind == "*" else f"{principal.kind}:{principal.value}" for principal in principals)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _pair(old: Sequence[_View], new: Sequence[_View]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(changed pairs, removed, added): the same statement first, then by Sid, then by content."""
    left, right = list(range(len(old))), list(range(len(new)))
    for i in list(left):
        j = next((j for j in right if new[j] == old[i]), None)
        if j is not None:
            left.remove(i)
            right.remove(j)
    pairs = []
    for i in list(left):
        sid = old[i].sid
        if sid is None or [old[k].sid for k in left].count(sid) != 1 or [new[k].sid for k in right].count(sid) != 1:
            continue
        j = next(j for j in right if new[j].sid == sid)
        pairs.append((i, j))
        left.remove(i)
        right.remove(j)
    candidates = sorted(((_similarity(old[i], new[j]), i, j) for i in left for j in right
                         if old[i].effect == new[j].effect),
                        key=lambda found: (-found[0], found[1], found[2]))
    for similarity, i, j in candidates:
        if similarity >= PAIRING_SIMILARITY and i in left and j in right:
            pairs.append((i, j))
            left.remove(i)
            right.remove(j)
    return pairs, left, right


def _similarity(old: _View, new: _View) -> float:
    union = old.items | new.items
    return len(old.items & new.items) / len(union) if union else 1.0


def _changed(old: _View, new: _View, before_index: int, after_index: int) -> StatementChange | None:
    elements = []
    for element in ELEMENTS:
        before, after = old.of(element), new.of(element)
        added = tuple(value for value in after if value not in before)
        removed = tuple(value for value in before if value not in after)
        # Who and what the statement is about stay readable next to the change; other kept values do not.
        kept = tuple(value for value in after if value in before) if element in ("principal", "action") else ()
        if added or removed or kept:
            elements.append(ElementChange(element, added, removed, kept))
    if not any(change.added or change.removed for change in elements):
        return None
    return StatementChange("changed", new.sid, new.effect, tuple(elements), before_index, after_index)


def _whole(kind: StatementKind, view: _View, *, before_index: int | None = None,
           after_index: int | None = None) -> StatementChange:
    values = [(element, view.of(element)) for element in ELEMENTS if element not in ("sid", "effect") and view.of(element)]
    elements = tuple(ElementChange(element, **{"added" if kind == "added" else "removed": values})
                     for element, values in values)
    return StatementChange(kind, view.sid, view.effect, elements, before_index, after_index)
