"""Which secrets a drill rotates: the declaration's rotating secrets (`rotation:` enabled), or the
ones named with --secret, in the declaration's order. A name the declaration does not rotate is a
usage error (exit 2), said before any AWS call."""

from __future__ import annotations

from collections.abc import Sequence

from secrets_layout.declaration.models import Declaration, Secret
from secrets_layout.errors import printable


class DrillUsageError(Exception):
    """The drill cannot run as asked: exit 2, nothing started."""


def drill_targets(declaration: Declaration, names: Sequence[str], shown_path: str) -> list[Secret]:
    rotating = [secret for secret in declaration.secrets if secret.rotates]
    if not names:
        if not rotating:
            raise DrillUsageError(f"{shown_path} declares no secret with rotation enabled: there is nothing to drill")
        return rotating
    declared = {secret.name: secret for secret in declaration.secrets}
    for name in names:
        secret = declared.get(name)
        if secret is None:
            raise DrillUsageError(f"--secret {printable(name)}: not declared in {shown_path}; "
                                  f"{_rotating_names(rotating)}")
        if not secret.rotates:
            raise DrillUsageError(f"--secret {printable(name)}: {shown_path} does not rotate it "
                                  f"({_why_not_rotating(secret)}); {_rotating_names(rotating)}")
    chosen = set(names)
    return [secret for secret in declaration.secrets if secret.name in chosen]


def _why_not_rotating(secret: Secret) -> str:
    if secret.rotation is not None and secret.rotation.reason:
        return f"exempt: {printable(secret.rotation.reason)}"
    return "no rotation: declared"


def _rotating_names(rotating: list[Secret]) -> str:
    if not rotating:
        return "it declares no secret with rotation enabled"
    return "the secrets it rotates: " + ", ".join(secret.name for secret in rotating)
