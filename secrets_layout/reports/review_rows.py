"""The review sections of a preview (policy statement changes, access, widenings) as rows every report
format prints the same way: grouped, so that one change made to many secrets reads as one line.

- a widening: one row per kind, reader and what it gained, listing the secrets and their regions;
- a weakened deny: one row per statement change, listing the resources it was made to;
- a policy diff: one block per distinct set of statement changes, listing the resources that have it;
- an access row: one per secret, reader, before and after, listing the regions where it holds.
Pure: report data in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from secrets_layout.preview import PlannedResource, PreviewReport
from secrets_layout.review.access import Reader
from secrets_layout.review.access_diff import AccessChange, describe_actions
from secrets_layout.review.policy_diff import PolicyDiff, StatementChange

SIGNS = {"added": "+", "removed": "-", "changed": "~"}
SAFEGUARD = "removes a safeguard: the engine no longer refuses to delete or replace it"


@dataclass(frozen=True)
class WideningRow:
    kind: str
    account: str
    principal: str
    gained: str
    places: tuple[tuple[str, tuple[str, ...]], ...]
    """(secret, its regions where the widening holds)."""
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class DenyRow:
    kind: str
    statement: str
    details: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class PolicyGroup:
    resources: tuple[str, ...]
    type: str
    diff: PolicyDiff


@dataclass(frozen=True)
class AccessRow:
    secret: str
    regions: tuple[str, ...]
    account: str
    principal: str
    before: str
    after: str
    widening: str | None
    depends_on: tuple[str, ...] = ()


def principal_label(reader: Reader) -> str:
    """A principal without what its account column already says: `role/App` for `arn:aws:iam::1...:role/App`."""
    prefix = f"arn:aws:iam::{reader.account}:"
    return reader.principal.removeprefix(prefix) if reader.principal.startswith(prefix) else reader.principal


def widening_rows(report: PreviewReport) -> list[WideningRow]:
    if report.access is None:
        return []
    grouped: dict[tuple, dict[str, list[str]]] = {}
    for change in report.access.widenings:
        key = (change.widening, change.reader.account, principal_label(change.reader),
               describe_actions(change.gained) if change.gained else describe_actions(change.after),
               change.depends_after)
        grouped.setdefault(key, {}).setdefault(change.secret, []).append(change.region)
    return [WideningRow(kind, account, principal, gained, tuple((secret, tuple(regions)) for secret, regions in places.items()),
                        depends)
            for (kind, account, principal, gained, depends), places in grouped.items()]


def deny_rows(report: PreviewReport) -> list[DenyRow]:
    if report.access is None:
        return []
    grouped: dict[tuple, list[str]] = {}
    for deny in report.access.denies:
        grouped.setdefault((deny.kind, deny.statement, deny.details), []).append(deny.resource)
    return [DenyRow(kind, statement, details, tuple(resources)) for (kind, statement, details), resources in grouped.items()]


def policy_groups(resources: Iterable[PlannedResource]) -> list[PolicyGroup]:
    grouped: dict[tuple, list[str]] = {}
    for resource in resources:
        for diff in resource.change.policy_diffs:
            grouped.setdefault((resource.change.type, diff), []).append(resource.change.name)
    return [PolicyGroup(tuple(names), resource_type, diff) for (resource_type, diff), names in grouped.items()]


def access_rows(changes: Sequence[AccessChange]) -> list[AccessRow]:
    grouped: dict[tuple, list[str]] = {}
    for change in changes:
        key = (change.secret, change.reader.account, principal_label(change.reader), describe_actions(change.before),
               describe_actions(change.after), change.widening, change.depends_after or change.depends_before)
        grouped.setdefault(key, []).append(change.region)
    return [AccessRow(secret, tuple(regions), account, principal, before, after, widening, depends)
            for (secret, account, principal, before, after, widening, depends), regions in grouped.items()]


def places_text(places: Sequence[tuple[str, Sequence[str]]], *, limit: int = 5) -> str:
    """`prod/a, prod/b in us-east-1, us-west-2` when the regions agree, else each secret with its own;
    past `limit` secrets, how many more."""
    region_sets = {tuple(regions) for _, regions in places}
    shown = [secret for secret, _ in places[:limit]]
    more = f" and {len(places) - limit} more" if len(places) > limit else ""
    if len(region_sets) == 1:
        return f"{', '.join(shown)}{more} in {', '.join(next(iter(region_sets)))}"
    return "; ".join(f"{secret} ({', '.join(regions)})" for secret, regions in places[:limit]) + more


def names_text(names: Sequence[str], *, limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def statement_lines(statement: StatementChange) -> list[tuple[str, str, str]]:
    """(element, sign, value) lines of one statement change; the sign `+`, `-`, or ` ` for a kept value."""
    lines = []
    for element in statement.elements:
        name = element.element.replace("_", " ")
        lines += [(name, " ", value) for value in element.kept]
        lines += [(name, "-", value) for value in element.removed]
        lines += [(name, "+", value) for value in element.added]
    return lines


def unprotected(report: PreviewReport) -> list[PlannedResource]:
    """Resources whose `protect` goes from true to false: a safeguard removed, whatever else happens."""
    return [resource for resource in report.resources
            if any(option.option == "protect" and option.before and not option.after
                   for option in resource.change.changed_options)]
