"""The values a simulated (or evaluated) deployment records, and nothing that records them.

- `RegisteredResource`: one registration as the engine would have received it; `Simulation`: a
  run's registrations in tree order (`tree_order`) and its stack outputs;
- `SecretValue`: a value that arrived marked secret, whose str/repr is `[secret]`; `mask()` turns any
  recorded structure into plain data with secrets masked, for reports; `to_wire()` turns it back into
  the engine protocol's secret envelope;
- `UNKNOWN`, the engine's sentinel for a value not known in a dry run, and `STACK_TYPE`, the root
  stack's type.

The SDK simulation (engine/simulation.py) and the plan evaluation (engine/plan_evaluation.py) both
produce these, and the preview, the change classification, the cache and the reviews read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

__all__ = [
    "MODES",
    "SECRET_MASK",
    "STACK_TYPE",
    "UNKNOWN",
    "RegisteredResource",
    "SecretValue",
    "Simulation",
    "from_wire",
    "mask",
    "to_wire",
    "tree_order",
]

MODES = ("up", "preview")
"""Simulation modes: a deployment (`pulumi up`, every output known) or a dry run (`pulumi preview`)."""

UNKNOWN = rpc.UNKNOWN
"""The engine's sentinel for a value not known during a preview (UnknownStringValue,
pulumi/sdk/go/common/resource/plugin/rpc.go); what the analyzer protocol carries for it."""

STACK_TYPE = "pulumi:pulumi:Stack"


class SecretValue:
    """A value that was marked secret. Its str/repr is `[secret]`; `reveal()` returns it.

    Equality compares the hidden values, so tests can assert on them deliberately.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretValue", repr(type(self._value))))


SECRET_MASK = "[secret]"


def mask(value: Any) -> Any:
    """Plain data (dicts, lists, scalars) with every `SecretValue` replaced by "[secret]"."""
    if type(value) is str:  # most values: past the checks below (Mapping's is an ABC's, slow)
        return value
    if isinstance(value, SecretValue):
        return SECRET_MASK
    if isinstance(value, Mapping):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value


def to_wire(value: Any) -> Any:
    """SecretValue back to the engine protocol's secret envelope: for answers sent to the program,
    and for what the policy pack is sent (the analyzer protocol marks secrets the same way)."""
    if type(value) is str:
        return value
    if isinstance(value, SecretValue):
        return rpc.wrap_rpc_secret(to_wire(value.reveal()))
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    return value


def from_wire(value: Any) -> Any:
    """The engine protocol's secret envelopes ({sig: secret, value: ...}) as SecretValue: what `to_wire` undoes."""
    if type(value) is str:
        return value
    if rpc.is_rpc_secret(value):
        return SecretValue(from_wire(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {key: from_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    return value


@dataclass(frozen=True)
class RegisteredResource:
    """One resource registration, as the engine would have received it.

    `inputs` and `outputs` hold plain Python values; any value that was marked secret is a
    `SecretValue` (top-level properties: the SDK lifts secretness to the top-level property).
    `secret_inputs` names those input properties. `depends_on` holds the explicit
    dependencies (all `dependencies` that no input property accounts for).
    """

    urn: str
    type: str
    name: str
    custom: bool
    id: str | None
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: frozenset[str]
    protect: bool | None
    ignore_changes: tuple[str, ...]
    import_id: str | None
    depends_on: tuple[str, ...]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    additional_secret_outputs: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    delete_before_replace: bool | None
    retain_on_delete: bool | None
    providers: dict[str, str] = field(default_factory=dict)
    read: bool = False
    """True for `Resource.get` (ReadResource): an existing resource read, not managed."""
    aliases: tuple[str, ...] = ()
    """The URNs this resource may have had before (the `aliases` option), each as a full URN."""
    stack: tuple[str, ...] = field(default=(), compare=False)
    """Where the program registered it, innermost frame first, each `PATH:LINE` (the SDK's stack trace,
    recorded only when `simulate` is asked to capture stack traces)."""

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class Simulation:
    """The result of one simulated deployment."""

    project: str
    stack: str
    stack_urn: str
    resources: list[RegisteredResource]
    """Every registration except the root stack, in a deterministic tree order: each resource
    before its children, siblings by URN (the arrival order varies, RPCs run on threads)."""
    outputs: dict[str, Any]
    """The stack outputs; secret outputs are `SecretValue`."""
    mode: str = "up"
    """"up" or "preview" (see `simulate`)."""

    def by_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def by_urn(self) -> dict[str, RegisteredResource]:
        return {resource.urn: resource for resource in self.resources}

    def get(self, name: str, type_: str | None = None) -> RegisteredResource:
        """The single resource with that logical name (and type); KeyError otherwise."""
        found = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} (type {type_!r})")
        return found[0]

    def children(self, parent: RegisteredResource | str) -> list[RegisteredResource]:
        urn = parent if isinstance(parent, str) else parent.urn
        return [resource for resource in self.resources if resource.parent == urn]

    @property
    def secret_outputs(self) -> frozenset[str]:
        return frozenset(name for name, value in self.outputs.items() if isinstance(value, SecretValue))


def tree_order(resources: list[RegisteredResource]) -> list[RegisteredResource]:
    """Depth first from the roots (resources whose parent is not recorded), siblings by URN."""
    recorded = {resource.urn for resource in resources}
    children: dict[str | None, list[RegisteredResource]] = {}
    for resource in resources:
        parent = resource.parent if resource.parent in recorded else None
        children.setdefault(parent, []).append(resource)
    ordered: list[RegisteredResource] = []
    pending = sorted(children.get(None, []), key=lambda resource: resource.urn, reverse=True)
    while pending:
        resource = pending.pop()
        ordered.append(resource)
        pending.extend(sorted(children.get(resource.urn, []), key=lambda child: child.urn, reverse=True))
    return ordered
