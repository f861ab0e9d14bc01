"""Which declaration line made a resource: so a violation points at the YAML the author wrote.

A resource belongs to the nearest component above it (parents are recorded by the simulation):
- anything under a ManagedSecret -> that secret's `- name:` item;
- a RegionalKey -> `kms.keys.<region>` or the line that first names the region;
- a rotation function or app -> the `rotation:` of the first secret that uses it;
- ConsumerGrants -> the account under `accounts:`;
- an SSM parameter -> its item under `parameters:`;
- anything else of the layout (providers, the layout itself) -> the `environment:` line;
- a resource the declaration did not make (no secrets-layout component above it: a `--program`'s own)
  -> the line of the program that registered it, from the stack trace the simulation records
  (`program_position`), else the `environment:` line.

A policy violation goes one step further: to the field of its secret that causes it, from the
finding's field path (secrets_layout.findings.fields), e.g. the `every_days:` line of a rotation
that is too rare, and its message names that field.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.declaration.yaml_source import Position
from secrets_layout.engine.recorded_values import RegisteredResource
from secrets_layout.findings.fields import FixContext, Subject, author_message, locate_field
from secrets_layout.policies.findings import Finding

SECRET_COMPONENT = "secrets-layout:secret:ManagedSecret"
KEY_COMPONENT = "secrets-layout:kms:RegionalKey"
ROTATION_COMPONENTS = ("secrets-layout:rotation:ManagedRotationApp", "secrets-layout:rotation:BundledRotationFunction")
CONSUMER_COMPONENT = "secrets-layout:consumer:ConsumerGrants"
PARAMETER_TYPE = "aws:ssm/parameter:Parameter"


LAYOUT_PREFIX = "secrets-layout:"
"""The type prefix of the components the declaration's layout is made of."""


def locate_resources(resources: Iterable[RegisteredResource], loaded: LoadedDeclaration,
                     program: Path | None = None) -> dict[str, Position]:
    """The declaration position of every resource, by URN (a program's own resource: its program line)."""
    by_urn = {resource.urn: resource for resource in resources}
    return {urn: _locate(resource, by_urn, loaded, program) for urn, resource in by_urn.items()}


def made_by_declaration(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource]) -> bool:
    """Whether a component of the layout (a secrets-layout: type) is the resource or above it."""
    return any(owner.type.startswith(LAYOUT_PREFIX) for owner in _ancestors(resource, by_urn))


def program_position(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource],
                     program: Path) -> Position | None:
    """The line of `program` (else of a module beside it) that registered the resource or, for one its
    component registered, the component; None without a recorded stack trace."""
    for owner in _ancestors(resource, by_urn):
        frames = [frame.rpartition(":") for frame in owner.stack]
        frames = [(Path(path), int(line)) for path, _, line in frames if line.isdigit()]
        found = (next(((path, line) for path, line in frames if _same_file(path, program)), None)
                 or next(((path, line) for path, line in frames if _users_code(path, program)), None))
        if found is not None:
            path, line = found
            return Position(line, 1, _shown_path(path, program))
    return None


def _same_file(path: Path, program: Path) -> bool:
    try:
        return path.resolve() == program.resolve()
    except OSError:
        return False


def _users_code(path: Path, program: Path) -> bool:
    """A module of the user's own beside the program: not an installed package, not ours."""
    resolved = path.resolve()
    return (resolved.is_relative_to(program.resolve().parent) and "site-packages" not in resolved.parts
            and not any(resolved.is_relative_to(folder) for folder in _our_folders()))


@functools.cache
def _our_folders() -> tuple[Path, ...]:
    """The folders of this package and of the folders it maps (components/, policies/ in a checkout)."""
    folders = []
    for name in ("secrets_layout", "secrets_layout.components", "secrets_layout.policies"):
        spec = importlib.util.find_spec(name)
        # The package's own folder first; a checkout appends the repository's top (secrets_layout/__init__.py),
        # where a user's program may live, so only the first counts.
        locations = list(spec.submodule_search_locations or []) if spec else []
        folders += [Path(locations[0]).resolve()] if locations else []
    return tuple(folders)


def _shown_path(path: Path, program: Path) -> str:
    """The program as it was named on the command line; another file relative to the working directory."""
    if _same_file(path, program):
        return str(program)
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class LocatedViolation:
    position: Position
    message: str
    """The pack's what and why, with the fix in declaration terms."""
    context: FixContext | None = None
    """What the message was written from, when it names a declaration field (fields.once_per_line merges
    the violations a `defaults:` line causes in every secret that inherits it)."""


class ViolationLocator:
    """Places policy violations of one simulated deployment in its declaration."""

    def __init__(self, resources: Iterable[RegisteredResource], loaded: LoadedDeclaration, program: Path | None = None):
        self._by_urn = {resource.urn: resource for resource in resources}
        self._loaded = loaded
        self._program = program
        self._secret_indexes = {secret.name: index for index, secret in enumerate(loaded.declaration.secrets)}

    def locate(self, policy: str, urn: str, message: str, finding: Finding | None,
               config: Mapping[str, Any] | None = None) -> LocatedViolation:
        """`finding`: what the policy's check found (findings.recheck), None when no finding renders to
        `message`; `config`: the policy's configured properties (they give the numbers of the fix)."""
        loaded = self._loaded
        resource = self._by_urn.get(urn)
        if resource is None:
            return LocatedViolation(loaded.source_map.locate_key(("environment",)), message)
        if finding is None:
            # pulumi_policy's "can't run policy ... during preview" advisory, or a message no check of this
            # version renders: about the resource, with the pack's own words.
            return LocatedViolation(_locate(resource, self._by_urn, loaded, self._program), message)
        subject = Subject(policy, finding, resource.type, self._secret_index(resource))
        located = locate_field(subject, loaded.declaration, loaded.source_map)
        if located is None:
            # Not made from a secret of the declaration (a resource of the user's own program, a key): the
            # finding's own fix names what to change in that program.
            return LocatedViolation(_locate(resource, self._by_urn, loaded, self._program), finding.message)
        context = FixContext(config or {}, located.path, loaded.declaration, subject)
        return LocatedViolation(located.position, author_message(context), context)

    def _secret_index(self, resource: RegisteredResource) -> int | None:
        for owner in _ancestors(resource, self._by_urn):
            if owner.type == SECRET_COMPONENT:
                return self._secret_indexes.get(owner.name)
        return None


def _ancestors(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource]) -> Iterable[RegisteredResource]:
    current: RegisteredResource | None = resource
    while current is not None:
        yield current
        current = by_urn.get(current.parent) if current.parent else None


def _locate(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource], loaded: LoadedDeclaration,
            program: Path | None = None) -> Position:
    source_map = loaded.source_map
    if program is not None and not made_by_declaration(resource, by_urn):
        found = program_position(resource, by_urn, program)
        if found is not None:
            return found
    for owner in _ancestors(resource, by_urn):
        if owner.type == SECRET_COMPONENT:
            return loaded.secret_position(owner.name)
        if owner.type == PARAMETER_TYPE:
            with contextlib.suppress(KeyError):
                return loaded.parameter_position(owner.inputs.get("name"))
        if owner.type == KEY_COMPONENT:
            return _region_position(owner.name.rsplit("-kms-", 1)[-1], loaded)
        if owner.type in ROTATION_COMPONENTS:
            return _rotation_position(owner.name, loaded)
        if owner.type == CONSUMER_COMPONENT:
            account = owner.name.split("-consumer-", 1)[-1]
            return source_map.locate_key(("accounts", account))
    return source_map.locate_key(("environment",))


def _region_position(region: str, loaded: LoadedDeclaration) -> Position:
    declaration, source_map = loaded.declaration, loaded.source_map
    if region in declaration.kms.keys:
        return source_map.locate(("kms", "keys", region))
    if region == declaration.primary_region:
        return source_map.locate(("primary_region",))
    for index, secret in enumerate(declaration.secrets):
        if region in secret.replicas:
            return source_map.locate(("secrets", index, "replicas", secret.replicas.index(region)))
    return source_map.locate_key(("environment",))


def _rotation_position(component_name: str, loaded: LoadedDeclaration) -> Position:
    """`<env>-rotation-<engine or function>[-<placement>]` -> the first secret rotated by it."""
    declaration = loaded.declaration
    used = component_name.split("-rotation-", 1)[-1]
    for index, secret in enumerate(declaration.secrets):
        rotation = secret.rotation
        if rotation is None or not rotation.enabled:
            continue
        method = rotation.managed or rotation.function
        if method is not None and used.startswith(method.value):
            return loaded.source_map.locate_key(("secrets", index, "rotation"))
    return loaded.source_map.locate_key(("environment",))
