"""What a change to a declaration would do: create, update, delete or keep each resource.

Both sides are simulated deployments (the current declaration and the one at --base), so the
comparison is of the inputs the program registers, the way the engine diffs them, minus the
properties a resource asks the engine to ignore. Values are compared, never shown: a change
names the properties that differ, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from secrets_layout.simulation import RegisteredResource, SecretValue

Change = Literal["create", "update", "delete", "same"]
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
AWS_DEFAULT_RECOVERY_DAYS = 30


@dataclass(frozen=True)
class PlannedChange:
    urn: str
    type: str
    name: str
    change: Change
    changed_properties: tuple[str, ...] = ()
    note: str | None = None
    """What a reviewer must know: a delete blocked by protect, when a deleted secret is gone for good."""


def plan_changes(current: Sequence[RegisteredResource], base: Sequence[RegisteredResource] | None,
                 today: date) -> list[PlannedChange]:
    """Classify every resource of `current` (and every resource only in `base`).

    Without a base everything is a create. Component resources are listed too: their children
    carry the real changes, but a reviewer reads the tree.
    """
    if base is None:
        return [PlannedChange(resource.urn, resource.type, resource.name, "create") for resource in current]
    before = {resource.urn: resource for resource in base}
    planned = []
    for resource in current:
        previous = before.get(resource.urn)
        if previous is None:
            planned.append(PlannedChange(resource.urn, resource.type, resource.name, "create"))
            continue
        changed = changed_properties(previous, resource)
        planned.append(PlannedChange(resource.urn, resource.type, resource.name, "update" if changed else "same", changed))
    now = {resource.urn for resource in current}
    planned.extend(_deletion(resource, today) for resource in base if resource.urn not in now)
    return planned


def changed_properties(before: RegisteredResource, after: RegisteredResource) -> tuple[str, ...]:
    """Top-level input properties that differ, except those `after` tells the engine to ignore."""
    ignored = {_camel(name) for name in after.ignore_changes} | set(after.ignore_changes)
    names = (before.inputs.keys() | after.inputs.keys()) - ignored
    return tuple(sorted(name for name in names if not _same(before.inputs.get(name), after.inputs.get(name))))


def _same(left: object, right: object) -> bool:
    if isinstance(left, SecretValue) or isinstance(right, SecretValue):
        # Compared in memory only; SecretValue equality looks at the hidden values.
        return isinstance(left, SecretValue) and isinstance(right, SecretValue) and left == right
    return left == right


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _deletion(resource: RegisteredResource, today: date) -> PlannedChange:
    if resource.protect:
        note = "blocked: the resource is protected; `pulumi state unprotect` it first if the deletion is intended"
    elif resource.type == SECRET_TYPE:
        # Numbers cross the engine protocol as floats.
        days = int(resource.inputs.get("recoveryWindowInDays", AWS_DEFAULT_RECOVERY_DAYS))
        note = ("deleted immediately, without recovery" if days == 0 else
                f"recoverable until {(today + timedelta(days=days)).isoformat()} "
                f"({days}-day recovery window), then gone")
    else:
        note = None
    return PlannedChange(resource.urn, resource.type, resource.name, "delete", (), note)
