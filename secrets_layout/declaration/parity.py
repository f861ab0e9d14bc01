"""Rotation parity between an environment and the ones a change reaches before it (`lower_environments`).

A rotation that never ran below production runs for the first time in production (the article's pitfall 6,
"No rotation testing: test rotation in dev/staging first"). Environments are declared side by side, so
each secret is compared with its counterpart below: the same `<service>/<name>` under the other
environment's first segment. Reported, advisory, at the field that differs:

- a secret with no counterpart below (its rotation cannot be tried there);
- a secret that rotates here while its counterpart does not;
- a rotation of another kind below (managed application and engine, bundled function and adapter type,
  existing function, how the database learns its first password).

Which environments are lower is the declaration's own `lower_environments:`: never guessed from names.
Pure: declarations in, findings out; `sibling_path` says where a lower environment is declared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from secrets_layout.declaration.models import Declaration, Rotation, Secret
from secrets_layout.errors import Path as FieldPath

CHECK = "rotation-parity"
"""The name findings carry (validate's own check: the policy pack sees one stack, never two)."""


@dataclass(frozen=True)
class Unreadable:
    """A lower environment declared beside this one that cannot be read (validating it says why)."""

    path: str


Lower = Declaration | Unreadable | None
"""A lower environment: its declaration, one that cannot be read, or None where none is declared."""


@dataclass(frozen=True)
class ParityFinding:
    path: FieldPath
    """Where in this environment's declaration (secrets[i].rotation, lower_environments[j], ...)."""
    message: str


def counterpart_name(name: str, environment: str) -> str:
    """`prod/orders/db` in `staging`: `staging/orders/db`."""
    return f"{environment}/{name.split('/', 1)[1]}" if "/" in name else f"{environment}/{name}"


def rotation_kind(rotation: Rotation | None) -> str | None:
    """How a secret rotates, in the declaration's words; None when it does not rotate."""
    if rotation is None or not rotation.enabled:
        return None
    if rotation.managed is not None:
        kind = f"managed: {rotation.managed.value}"
        if rotation.bootstrap is not None:
            kind += f" (bootstrap: {rotation.bootstrap.value})"
        return kind
    if rotation.function is not None:
        adapter = f", adapter {rotation.adapter.type}" if rotation.adapter is not None else ""
        return f"function: {rotation.function.value}{adapter}"
    if rotation.lambda_arn is not None:
        return f"lambda_arn: {rotation.lambda_arn.split(':function:', 1)[-1]}"
    return None


def parity_findings(declaration: Declaration, lower: Mapping[str, Lower]) -> Iterator[ParityFinding]:
    """`lower`: each of `declaration.lower_environments` -> what is declared of it beside this one."""
    for position, environment in enumerate(declaration.lower_environments):
        below = lower.get(environment)
        if isinstance(below, Unreadable):
            yield ParityFinding(("lower_environments", position),
                                f"{below.path} is not a valid declaration, so parity with {environment} cannot be "
                                f"checked; run `secrets-layout validate {below.path}` and fix it")
            continue
        if below is None:
            yield ParityFinding(("lower_environments", position),
                                f"no declaration of {environment} beside this one (environments/{environment}.yaml or "
                                f"environments/{environment}/), so no secret's rotation can be shown to run there "
                                f"first; declare it, or remove {environment} from lower_environments")
            continue
        by_name = {secret.name: secret for secret in below.secrets}
        for index, secret in enumerate(declaration.secrets):
            yield from _compared(secret, index, by_name.get(counterpart_name(secret.name, environment)), environment)


def _compared(secret: Secret, index: int, counterpart: Secret | None, environment: str) -> Iterator[ParityFinding]:
    here = rotation_kind(secret.rotation)
    expected = counterpart_name(secret.name, environment)
    if counterpart is None:
        what = ("so its rotation never runs there before it runs here" if here is not None
                else "so what is read here is never tried there first")
        yield ParityFinding(("secrets", index, "name"),
                            f"{environment} declares no {expected}, {what}; declare it in {environment} too "
                            f"(or remove {environment} from lower_environments)")
        return
    if here is None:
        return
    there = rotation_kind(counterpart.rotation)
    if there is None:
        yield ParityFinding(("secrets", index, "rotation"),
                            f"rotates here ({here}) but {expected} does not rotate, so this rotation runs for the "
                            f"first time here; declare the same rotation for {expected}")
    elif there != here:
        yield ParityFinding(("secrets", index, "rotation"),
                            f"rotates with {here} here but with {there} in {environment}, so this rotation is "
                            f"never tried before it runs here; rotate {expected} the same way")


def sibling_path(declaration_path: str | os.PathLike[str], environment: str) -> Path | None:
    """Where `environment` is declared beside a declaration: environments/<env>.yaml, else the folder
    environments/<env>/ (the same order the program reads them in); None when neither exists."""
    here = Path(declaration_path)
    folder = here.parent
    for candidate in (folder / f"{environment}.yaml", folder / environment):
        if candidate.is_file() or (candidate.is_dir() and any(candidate.glob("*.yaml"))):
            return candidate
    return None
