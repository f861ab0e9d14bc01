"""Who can read each secret before and after a change, and every widening, first.

The two sides are access.py's maps of the base deployment and of the head. A reader's access on a side
is what that side's map answers for it (`AccessMap.answer`): a role named only after the change was,
before it, one of "the rest" of its account, or of another account. A widening is anything a reader
may do after the change and not before it:

- `new secret`: the secret did not exist (one the change adopts with `import_id` did: its readers are
  listed, not called out);
- `new region`: the secret did not exist in that region (a replica added);
  (for both, the secret's own account as a whole is listed, not called out: AWS lets its IAM policies
  decide on every secret it holds);
- `new account`: nobody of the reader's account could do anything with the secret before;
- `new principal`: this reader could do nothing with it before, others of its account could;
- `broader actions`: it could do less before (another action, another staging label);
- `unconditional`: it could do the same only under conditions the request had to meet;
- `deny removed` / `deny changed`: a Deny statement of a secret or key policy is gone or changed so that
  it may let more through (policy_diff.StatementChange.weakens_deny), whoever it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from secrets_layout.policies.resources import KEY_POLICY_HOLDERS, SECRET, SECRET_POLICIES
from secrets_layout.review.access import ANY_PRINCIPAL, CAPABILITIES, Access, AccessMap, Reader
from secrets_layout.review.policy_diff import PolicyDiff

WIDENING_KINDS = ("new secret", "new region", "new account", "new principal", "broader actions", "unconditional",
                  "deny removed", "deny changed")
ACCESS_POLICY_TYPES = (*SECRET_POLICIES, *KEY_POLICY_HOLDERS, SECRET)
"""Resources whose policy decides who reads a secret: secret policies (and a Secret's inline one), key policies."""


@dataclass(frozen=True)
class AccessChange:
    """One reader of one secret in one region, before and after the change."""

    secret: str
    region: str
    reader: Reader
    before: tuple[str, ...]
    after: tuple[str, ...]
    depends_before: tuple[str, ...] = ()
    depends_after: tuple[str, ...] = ()
    widening: str | None = None
    """One of WIDENING_KINDS, None when the reader may do nothing more than before."""

    @property
    def gained(self) -> tuple[str, ...]:
        return tuple(action for action in self.after if action not in self.before)

    @property
    def lost(self) -> tuple[str, ...]:
        return tuple(action for action in self.before if action not in self.after)

    @property
    def changed(self) -> bool:
        return (self.before, self.depends_before) != (self.after, self.depends_after)


@dataclass(frozen=True)
class DenyChange:
    """A Deny statement of a secret or key policy that is gone, or changed so that it may let more through."""

    kind: str
    resource: str
    """The resource's name (`prod/db/credentials-policy`, `prod-kms-us-east-1-key`)."""
    resource_type: str
    statement: str
    """The statement's Sid, else its position."""
    details: tuple[str, ...]
    """What changed in it, `- StringNotEquals aws:PrincipalOrgID: o-...` and `+ ...`."""


@dataclass(frozen=True)
class AccessReview:
    changes: tuple[AccessChange, ...]
    """Every reader of every secret and region on either side, before and after (unchanged ones included)."""
    denies: tuple[DenyChange, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def widenings(self) -> tuple[AccessChange, ...]:
        return tuple(change for change in self.changes if change.widening is not None)

    @property
    def widened(self) -> bool:
        return bool(self.widenings or self.denies)

    @property
    def changed(self) -> tuple[AccessChange, ...]:
        return tuple(change for change in self.changes if change.changed)


def review_access(before: AccessMap, after: AccessMap,
                  policy_changes: Iterable[tuple[str, str, Sequence[PolicyDiff]]] = (),
                  adopted: Iterable[str] = ()) -> AccessReview:
    """`policy_changes`: (resource type, resource name, its policy diffs) of every changed resource;
    `adopted`: secrets the change imports, which exist already: new to the stack, not new to anyone."""
    secrets_before = {secret for secret, _ in before.places}
    adopted = set(adopted)
    changes = []
    for place in _places(after, before):
        for reader in _readers(after, before, place):
            old = before.answer(*place, reader) if place in before.rows else None
            new = after.answer(*place, reader) if place in after.rows else None
            change = AccessChange(place[0], place[1], reader, _actions(old), _actions(new),
                                  _depends(old), _depends(new))
            if change.before or change.after:
                changes.append(_with_widening(change, before, secrets_before, adopted))
    denies = tuple(deny for resource_type, name, diffs in policy_changes if resource_type in ACCESS_POLICY_TYPES
                   for deny in _weakened_denies(resource_type, name, diffs))
    return AccessReview(tuple(changes), denies, tuple(dict.fromkeys((*before.problems, *after.problems))))


def _places(after: AccessMap, before: AccessMap) -> list[tuple[str, str]]:
    """Every (secret, region), the head's first, in its order."""
    return list(dict.fromkeys((*after.places, *before.places)))


def _readers(after: AccessMap, before: AccessMap, place: tuple[str, str]) -> list[Reader]:
    rows = [*after.rows.get(place, ()), *before.rows.get(place, ())]
    return list(dict.fromkeys(row.reader for row in rows))


def _actions(access: Access | None) -> tuple[str, ...]:
    return access.actions if access is not None else ()


def _depends(access: Access | None) -> tuple[str, ...]:
    return access.depends_on if access is not None else ()


def _with_widening(change: AccessChange, before: AccessMap, secrets_before: set[str], adopted: set[str]) -> AccessChange:
    kind = None
    if change.gained:
        if change.secret not in secrets_before:
            # An adopted secret had its readers before the stack held it: its access is listed, not widened.
            kind = None if change.secret in adopted else "new secret"
        elif (change.secret, change.region) not in before.rows:
            kind = "new region"
        elif not change.before:
            kind = "new principal" if _account_read_before(before, change) else "new account"
        else:
            kind = "broader actions"
    elif change.depends_before and not change.depends_after and change.after:
        kind = "unconditional"
    if kind in ("new secret", "new region") and _own_account_as_a_whole(change.reader):
        # What AWS gives the secret's own account on any secret it makes: listed, not called out.
        kind = None
    return AccessChange(**{**change.__dict__, "widening": kind})


def _own_account_as_a_whole(reader: Reader) -> bool:
    return reader.principal == ANY_PRINCIPAL and bool(re.fullmatch(r"[0-9]{12}", reader.account))


def _account_read_before(before: AccessMap, change: AccessChange) -> bool:
    """Whether any principal of the reader's account could do anything with the secret before."""
    if not re.fullmatch(r"[0-9]{12}", change.reader.account):
        return False
    return any(row.reader.account == change.reader.account and row.actions
               for (secret, _), rows in before.rows.items() if secret == change.secret for row in rows)


def _weakened_denies(resource_type: str, name: str, diffs: Sequence[PolicyDiff]) -> list[DenyChange]:
    found = []
    for diff in diffs:
        for statement in diff.statements:
            if not statement.weakens_deny:
                continue
            kind = "deny removed" if statement.change == "removed" or "Deny" in statement.values("effect").removed \
                else "deny changed"
            details = tuple(f"{sign} {element.element.replace('_', ' ')}: {value}" for element in statement.elements
                            for sign, values in (("-", element.removed), ("+", element.added)) for value in values)
            found.append(DenyChange(kind, name, resource_type, statement.label, details))
    return found


def describe_actions(actions: Sequence[str]) -> str:
    """What a reader may do, in few words: `GetSecretValue (AWSCURRENT), DescribeSecret`.

    GetSecretValue naming no stage reads the current value, as naming AWSCURRENT does: the two together
    are `GetSecretValue (AWSCURRENT)`; other stages follow in the parentheses; every action is `every action`."""
    if not actions:
        return "nothing"
    if tuple(actions) == CAPABILITIES:
        return "every action"
    stages = [action.split(" ", 1)[1] for action in actions if action.startswith("GetSecretValue ")]
    parts = []
    if "GetSecretValue" in actions or stages:
        named = [stage for stage in stages if stage != "AWSCURRENT" or "GetSecretValue" not in actions]
        shown = (["AWSCURRENT"] if "GetSecretValue" in actions and "AWSCURRENT" in stages else
                 ["no stage named"] if "GetSecretValue" in actions else []) + named
        parts.append(f"GetSecretValue ({', '.join(shown)})")
    others = [action for action in actions if not action.startswith("GetSecretValue")]
    parts.extend(others)
    return ", ".join(parts)
