"""What a change to a declaration would do: the engine's step for each resource, and what a
reviewer must know about it.

Both sides are simulated deployments (the current declaration and the one at --base), so the
comparison is of the inputs and options the program registers; the step each resource gets is
decided by secrets_layout.engine.classify, the way the engine decides it. Values are compared,
never shown in a change: a change names the properties that differ. The resource's inputs
(secrets masked) and options travel along for the JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from secrets_layout.engine.classify import KINDS, Classification, Kind, OptionChange, classify_all
from secrets_layout.engine.classify import changed_properties as changed_properties
from secrets_layout.engine.recorded_values import RegisteredResource
from secrets_layout.engine.values import plain
from secrets_layout.review.policy_diff import PolicyDiff, policy_diffs

Change = Kind
CHANGES = KINDS
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
AWS_DEFAULT_RECOVERY_DAYS = 30
PROTECTED_DELETE = "blocked: the resource is protected; `pulumi state unprotect` it first if the deletion is intended"
PROTECTED_REPLACE = ("blocked: the resource is protected and the engine refuses to replace it; set `protect: false` "
                     "in this same change if the replacement is intended")


@dataclass(frozen=True)
class PlannedChange:
    urn: str
    type: str
    name: str
    change: Change
    changed_properties: tuple[str, ...] = ()
    note: str | None = None
    """What a reviewer must know: a blocked step, when a deleted or replaced secret is gone for good."""
    replace_properties: tuple[str, ...] = ()
    """What forces a replacement: changed inputs the provider cannot update, or "provider"."""
    changed_options: tuple[OptionChange, ...] = ()
    """Resource options that differ from the base (protect, provider, parent, ...)."""
    blocked: bool = False
    """The engine would refuse this step: a delete or replace of a protected resource."""
    previous_urn: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict, compare=False)
    """The resource's inputs as deployed (the old ones for a deletion), secrets masked."""
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    custom: bool = field(default=True, compare=False)
    """A cloud resource (or a provider); False for a component, which groups the resources under it."""
    policy_diffs: tuple[PolicyDiff, ...] = field(default=(), compare=False)
    """Its policy document (key, secret or IAM policy) statement by statement against the base; empty
    without a base, or when the document is the same."""

    @property
    def shown(self) -> bool:
        """Worth a line in a report: anything but a `same` with nothing changed."""
        return self.change != "same" or bool(self.changed_options)


def plan_changes(current: Sequence[RegisteredResource], base: Sequence[RegisteredResource] | None,
                 today: date) -> list[PlannedChange]:
    """Classify every resource of `current` (and every resource only in `base`).

    Without a base the stack is empty: everything is a create, or an import for a resource
    with an import id. Component resources are listed too: their children carry the real
    changes, but a reviewer reads the tree. With a base, a policy document that differs is
    compared statement by statement (review.policy_diff).
    """
    return [_planned(found, today, compared=base is not None) for found in classify_all(current, base or [])]


def _planned(found: Classification, today: date, *, compared: bool) -> PlannedChange:
    resource = found.new or found.old
    assert resource is not None
    diffs = policy_diffs(found.type, found.old.inputs if found.old else None,
                         found.new.inputs if found.new else None) if compared and found.kind != "same" else ()
    return PlannedChange(
        found.urn, found.type, found.name, found.kind, found.changed_properties, _note(found, today),
        found.replace_properties, found.changed_options, found.blocked, found.previous_urn,
        inputs=plain(resource.inputs), options=options_of(resource), custom=resource.custom, policy_diffs=diffs,
    )


def options_of(resource: RegisteredResource) -> dict[str, Any]:
    """The resource options a reviewer or a tool needs to read the policy that will be deployed."""
    return {
        "protect": bool(resource.protect),
        "ignore_changes": list(resource.ignore_changes),
        "import_id": resource.import_id,
        "provider": resource.provider,
        "parent": resource.parent,
        "aliases": list(resource.aliases),
        "replace_on_changes": list(resource.replace_on_changes),
        "delete_before_replace": resource.delete_before_replace,
        "retain_on_delete": resource.retain_on_delete,
    }


def _note(found: Classification, today: date) -> str | None:
    notes = []
    if found.kind == "delete":
        notes.append(PROTECTED_DELETE if found.blocked else _gone(found.old, today, "deleted"))
        if found.old is not None and found.old.retain_on_delete and not found.blocked:
            notes = ["removed from the stack only: retain_on_delete keeps it in AWS"]
    elif found.kind == "replace":
        if found.blocked:
            notes.append(PROTECTED_REPLACE)
        if found.type == SECRET_TYPE:
            # The replacement is a new secret with a new ARN; the old one is deleted after it.
            notes.append("REPLACES THE SECRET: a new secret with a new ARN is created; the old one is "
                         + (_gone(found.old, today, "deleted") or ""))
    elif found.kind == "import" and found.old is not None:
        notes.append(f"the base deployed it without import id {found.new.import_id!r}: the engine imports it "
                     "(replacing the resource in the stack's state) unless the state's ID is already that one")
    elif found.kind == "import":
        notes.append(f"adopts the existing resource {found.new.import_id!r}; its live settings must match the "
                     "declaration, or the import fails")
    if found.previous_urn:
        notes.append(f"moved from {found.previous_urn} (alias)")
    if found.unknown_type:
        notes.append(f"no ForceNew data for {found.type}: this update may be a replacement")
    for option in found.changed_options:
        if option.option == "protect" and not option.after:
            notes.append("unprotected: after this deployment the engine lets it be deleted or replaced")
    return "; ".join(note for note in notes if note) or None


def _gone(resource: RegisteredResource | None, today: date, verb: str) -> str | None:
    if resource is None or resource.type != SECRET_TYPE:
        return None
    # Numbers cross the engine protocol as floats.
    days = int(resource.inputs.get("recoveryWindowInDays", AWS_DEFAULT_RECOVERY_DAYS))
    if days == 0:
        return f"{verb} immediately, without recovery"
    return f"recoverable until {(today + timedelta(days=days)).isoformat()} ({days}-day recovery window), then gone"
