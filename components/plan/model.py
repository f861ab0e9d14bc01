"""The layout as data: every registration the components make, with its inputs and options.

A plan is a tuple of `Registration`s in the order the components make them. Values are plain
(str, numbers, bools, lists, dicts keyed by the engine's input names, e.g. `kmsKeyId`), or one of:

- `Ref`: another registration's output (`Ref("dev-kms-us-east-1-key", "arn")`), which the engine
  resolves once that resource exists, and which makes the referring input depend on it;
- `Derived`: a value computed from refs by a named pure function (derivations.DERIVATIONS), e.g. a policy
  document that names key ARNs, written as JSON;
- `Secret`: a value the engine must treat as secret; `FromConfig`: a stack config value (secret);
- `Archive`: files by archive path (the rotation function's code);
- `Invocation`: a provider function's result (`aws:lambda/getFunction:getFunction`), used by Ref.

Nothing here imports Pulumi: the components realize a plan with the SDK (components/realize.py),
and the preview evaluates it without (secrets_layout/engine/plan_evaluation.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """An output of another registration (or invocation) of the plan."""

    key: str
    """The referenced registration's key (its logical name)."""
    output: str
    """The output's name, as the engine names it (`arn`, `keyId`)."""


@dataclass(frozen=True)
class Derived:
    """A value computed from others (Refs among them) by a named pure function of DERIVATIONS."""

    function: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class Secret:
    """A value the engine treats as secret (never shown, stored encrypted)."""

    value: Any


@dataclass(frozen=True)
class FromConfig:
    """A stack config value, read as a secret (`pulumi config set --secret NAME`)."""

    key: str


@dataclass(frozen=True)
class Archive:
    """Files by archive path (an AssetArchive of FileAssets)."""

    files: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Options:
    protect: bool | None = None
    ignore_changes: tuple[str, ...] = ()
    """Input names as the program writes them (snake_case), as Pulumi's option takes them."""
    import_id: str | None = None
    depends_on: tuple[str, ...] = ()
    """Keys of registrations this one waits for besides what its inputs name."""
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registration:
    key: str
    """Unique in the plan: the logical name."""
    type: str
    name: str
    parent: str | None = None
    """The parent registration's key; None: the stack."""
    provider: str | None = None
    """The provider registration's key; None: the default provider (or a component)."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    options: Options = Options()
    component: bool = False
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """A component's registered outputs (its `register_outputs`)."""

    @property
    def custom(self) -> bool:
        return not self.component


@dataclass(frozen=True)
class Invocation:
    """A provider function called with arguments (values may hold Refs); its result is read with Ref."""

    key: str
    token: str
    arguments: Mapping[str, Any]
    parent: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class Plan:
    registrations: tuple[Registration, ...]
    invocations: tuple[Invocation, ...] = ()
    exports: Mapping[str, Any] = field(default_factory=dict)

    def by_key(self) -> dict[str, Registration]:
        return {registration.key: registration for registration in self.registrations}

    def urns(self, *, project: str, stack: str) -> dict[str, str]:
        """Each registration's URN in this stack (its parents' types before its own, as the engine names
        it: resource.NewURN; the SDK's mock monitor `make_urn`)."""
        urns: dict[str, str] = {}
        for registration in self.registrations:
            resource_type = registration.type
            if registration.parent is not None:
                resource_type = urns[registration.parent].split("::")[2].split("$")[-1] + "$" + resource_type
            urns[registration.key] = "urn:pulumi:" + "::".join([stack, project, resource_type, registration.name])
        return urns

    def protection(self) -> dict[str, bool | None]:
        """Each registration's `protect`: its own, else its parent's (pulumi/resource.py, Resource.__init__)."""
        protected: dict[str, bool | None] = {}
        for registration in self.registrations:
            inherited = protected[registration.parent] if registration.parent is not None else None
            protected[registration.key] = registration.options.protect if registration.options.protect is not None \
                else inherited
        return protected
