"""What a policy's check answers: structured findings, or why it cannot judge.

A check returns :class:`Finding` values: which input of the resource causes the violation (its field
path, in the provider's camelCase input names, as the engine sends them), and what is wrong, why it
matters and how to fix it, as three separate texts. The pack renders a finding as one message (what,
why, fix); ``secrets_layout`` places it at the declaration field its path leads to, and replaces the
fix with the YAML to change. Nothing reads a location back out of the text.

A check raises :class:`NotApplicable` when the policy cannot run (a config key it needs is missing, or
the resource is out of its scope) and :class:`CannotCheck` when a value it needs is unknown (a
``pulumi preview`` of resources that do not exist yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

FieldPath = Tuple[Union[str, int], ...]


@dataclass(frozen=True)
class Finding:
    """One violation, as data."""

    path: FieldPath
    """The input that causes it (``("rotationRules", "automaticallyAfterDays")``); ``()`` for the resource
    as a whole, e.g. a secret that no rotation names."""
    what: str
    why: str = ""
    fix: str = ""
    option: Optional[str] = None
    """The resource option that causes it (``"protect"``), when it is an option and not an input."""
    account: Optional[str] = None
    """The AWS account a grant names, for findings about who is granted access."""

    @property
    def message(self) -> str:
        """The text the pack reports: what, why, fix."""
        return " ".join(part for part in (self.what, self.why, self.fix) if part)


class NotApplicable(Exception):
    """The policy cannot run: a config key it needs is missing, or the resource is out of scope."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CannotCheck(Exception):
    """A value the rule needs is unknown until the resources exist (a preview on a fresh stack)."""

    def __init__(self, what: str) -> None:
        message = f"cannot check during preview: {what}; the policy runs again during `pulumi up` when it is known"
        super().__init__(message)
        self.message = message
        self.what = what
