"""Evaluating a plan: the registrations the engine would receive from the program, without running it.

The components realize a plan with the Pulumi SDK (components/realize.py); the preview evaluates the
same plan here, in plain Python, and gets what `simulation.simulate` records of the packaged program
on the SDK's mock engine: a `Simulation` of `RegisteredResource`s with the same URNs, inputs as
marshalled, options, dependencies and property dependencies, and the same stack outputs.
tests/test_plan_evaluation.py holds the two to each other on every example and on generated
declarations, in both modes. What the SDK does and this module does the same way, with where:

- A URN is `urn:pulumi:<stack>::<project>::<parent's type>$<type>::<name>`, the root stack's type left
  out (`Plan.urns`).
- An input is marshalled as the SDK's `rpc.serialize_property` does: an Output that is not known is the
  sentinel `UNKNOWN` (kept inside a secret envelope when the Output is secret), a secret Output an
  envelope at its place; None is left out; numbers cross the wire as floats (protobuf's Value).
- A reference to another resource's output is known when the resource's state holds it without an
  unknown (`rpc.resolve_outputs`), secret when the state marks it; a value computed from references
  (`Derived`, the SDK's `Output.all(...).apply`) is unknown when any of them is, and secret when any is.
- Dependencies: each input's are the resources its Outputs came from; a component among them (or in
  `depends_on`) stands for its descendants that are not children of custom resources
  (`rpc._add_dependency`); `dependencies` is all of them, sorted, with the explicit ones.
- A config value (`FromConfig`) is read as `pulumi.Config().require_secret` reads it: the key
  `<project>:<name>`, a name with a colon too, and a missing one stops the program (ConfigMissingError).
- A child inherits `protect` from its parent when it sets none (`Plan.protection`).
- What the resource class does to its inputs and options (secret inputs, JSON-encoded provider
  config, defaults, the outputs it marks secret, Python names of ignore_changes) comes from the class's
  profile (engine/sdk_classes.py), read from the installed SDK's source.
- A provider function called with arguments that are not all known, or during a dry run while a
  resource it depends on has no ID yet, is unknown and carries no dependencies (pulumi/runtime/invoke.py
  `_invoke`: the mock monitor does not gate invokes on dependencies).
- The provider's answers (IDs, computed outputs, unknown ones in a dry run) are the fake cloud's
  (fake_cloud.FakeCloud), as they are for the SDK simulation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from secrets_layout.components.plan.model import Archive, Derived, FromConfig, Invocation, Plan, Ref, Registration, Secret
from secrets_layout.components.plan.derivations import DERIVATIONS
from secrets_layout.engine.sdk_classes import ClassProfile, load_profiles
from secrets_layout.engine.fake_cloud import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, FakeCloud
from secrets_layout.engine.recorded_values import (
    MODES,
    STACK_TYPE,
    UNKNOWN,
    RegisteredResource,
    SecretValue,
    Simulation,
    from_wire,
    to_wire,
    tree_order,
)
from secrets_layout.engine.simulation import qualified_config_key


@dataclass(frozen=True)
class _Output:
    """A value as the program holds it: an Output (known or not, secret or not, from resources) or plain."""

    value: Any
    known: bool = True
    secret: bool = False
    resources: frozenset[str] = frozenset()
    """Plan keys of the resources the value came from."""


@dataclass
class _Registered:
    urn: str
    registration: Registration
    id: str | None
    state: dict[str, Any]
    """The provider's answer as the program receives it: secrets as SecretValue, numbers as floats."""
    children: list[str] = field(default_factory=list)


def evaluate_plan(plan: Plan, *, project: str, stack: str, mode: str = "up", account_id: str = DEFAULT_ACCOUNT_ID,
                  region: str = DEFAULT_REGION, secret_config: Mapping[str, str] | None = None,
                  profiles: Mapping[str, ClassProfile] | None = None) -> Simulation:
    """The registrations and stack outputs of `plan`, as `simulate` records them for the program that
    realizes it: a deployment ("up") or a dry run of a new stack ("preview")."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    evaluation = _Evaluation(plan, project=project, stack=stack, preview=mode == "preview",
                             cloud=FakeCloud(account_id=account_id, region=region, preview=mode == "preview"),
                             secret_config={qualified_config_key(key, project): value
                                            for key, value in (secret_config or {}).items()},
                             profiles=profiles if profiles is not None else load_profiles())
    recorded = [evaluation.register(registration) for registration in plan.registrations]
    outputs = {name: evaluation.marshal(value, []) for name, value in plan.exports.items()}
    return Simulation(project=project, stack=stack, mode=mode, stack_urn=evaluation.stack_urn,
                      resources=tree_order(recorded), outputs=outputs)


class _Evaluation:
    def __init__(self, plan: Plan, *, project: str, stack: str, preview: bool, cloud: FakeCloud,
                 secret_config: dict[str, str], profiles: Mapping[str, ClassProfile]) -> None:
        self.project, self.stack, self.preview, self.cloud = project, stack, preview, cloud
        self.secret_config, self.profiles = secret_config, profiles
        self.stack_urn = f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"
        self.urns, self.protection = plan.urns(project=project, stack=stack), plan.protection()
        self.registered: dict[str, _Registered] = {}
        self.invocations = {invocation.key: invocation for invocation in plan.invocations}
        self.invoked: dict[str, _Output] = {}

    # -- registrations ---------------------------------------------------------------------------
    def register(self, registration: Registration) -> RegisteredResource:
        parent = self.registered[registration.parent] if registration.parent else None
        urn, protect = self.urns[registration.key], self.protection[registration.key]
        profile = self.profiles.get(registration.type, ClassProfile()) if registration.custom else ClassProfile()
        inputs, property_dependencies = self._inputs(registration, profile)
        explicit = self._expanded(registration.options.depends_on)
        implied = {urn for urns in property_dependencies.values() for urn in urns}
        dependencies = tuple(sorted(explicit | implied))
        provider = self.registered[registration.provider].urn if registration.provider else None
        resource_id, state = self._answer(registration, urn, inputs, provider, profile)
        if parent is not None:
            parent.children.append(registration.key)
        self.registered[registration.key] = _Registered(urn, registration, resource_id or None,
                                                        _as_received(state))
        return RegisteredResource(
            urn=urn, type=registration.type, name=registration.name, custom=registration.custom,
            id=resource_id or None, parent=parent.urn if parent else self.stack_urn, provider=provider,
            inputs=inputs, outputs=state,
            secret_inputs=frozenset(key for key, value in inputs.items() if isinstance(value, SecretValue)),
            protect=protect,
            ignore_changes=tuple(profile.input_names.get(name, name) for name in registration.options.ignore_changes),
            import_id=registration.options.import_id,
            depends_on=tuple(dependency for dependency in dependencies if dependency not in implied),
            dependencies=dependencies,
            property_dependencies={key: tuple(sorted(urns)) for key, urns in property_dependencies.items()},
            additional_secret_outputs=self._secret_outputs(registration, profile),
            replace_on_changes=(), delete_before_replace=None, retain_on_delete=None,
        )

    def _inputs(self, registration: Registration, profile: ClassProfile) -> tuple[dict[str, Any], dict[str, set[str]]]:
        """The inputs as marshalled (secret envelopes as `_Secret`, unknowns as UNKNOWN), and each one's
        dependencies (URNs)."""
        given = {**profile.defaults, **_environment_defaults(profile), **registration.inputs} if registration.custom else {}
        inputs: dict[str, Any] = {}
        dependencies: dict[str, set[str]] = {}
        for name, value in given.items():
            resources: list[str] = []
            output = self._resolve(value, resources)
            if name in profile.json_inputs:
                output = _Output(json.dumps(_plain(output.value)) if output.known else None, output.known,
                                 output.secret, output.resources)
            if name in profile.secret_inputs:
                output = _Output(output.value, output.known, True, output.resources)
            marshalled = self._marshal_output(output)
            if marshalled is None:
                continue
            inputs[name] = marshalled
            dependencies[name] = self._expanded(tuple(dict.fromkeys([*resources, *output.resources])))
        return inputs, dependencies

    def _answer(self, registration: Registration, urn: str, inputs: dict[str, Any], provider: str | None,
                profile: ClassProfile) -> tuple[str | None, dict[str, Any]]:
        """The fake cloud's answer, as the recording monitor gets it (recording_monitor.RecordingMonitor)."""
        wire = to_wire(_floats(inputs))
        if registration.type.startswith("pulumi:providers:"):
            self.cloud.register_provider(urn, from_wire(wire))
        provider_reference = None
        if provider is not None:
            provider_id = self.registered[registration.provider].id if registration.provider else None
            provider_reference = f"{provider}::{provider_id or UNKNOWN}"
        resource_id, state = self.cloud.new_resource(MockResourceArgs(
            typ=registration.type, name=registration.name, inputs=wire, provider=provider_reference,
            resource_id=registration.options.import_id or "", custom=registration.custom))
        state = from_wire(dict(state))
        for name in self._secret_outputs(registration, profile):
            if name in state and not isinstance(state[name], SecretValue):
                state[name] = SecretValue(state[name])
        return resource_id, state

    def _secret_outputs(self, registration: Registration, profile: ClassProfile) -> tuple[str, ...]:
        names = (*registration.options.additional_secret_outputs, *profile.additional_secret_outputs)
        return tuple(profile.output_names.get(name, name) for name in names)

    def _expanded(self, keys: tuple[str, ...] | list[str]) -> set[str]:
        """URNs of these resources, a component standing for its descendants (rpc._add_dependency)."""
        urns: set[str] = set()
        pending = list(keys)
        while pending:
            registered = self.registered[pending.pop(0)]
            if registered.registration.component:
                pending.extend(registered.children)
            else:
                urns.add(registered.urn)
        return urns

    # -- values --------------------------------------------------------------------------------
    def marshal(self, value: Any, resources: list[str]) -> Any:
        return self._marshal_output(self._resolve(value, resources))

    def _resolve(self, value: Any, resources: list[str]) -> _Output:
        """A plan value as the program holds it; `resources` gathers what Outputs inside plain
        containers came from (the SDK's per-property dependencies)."""
        if isinstance(value, Ref):
            found = self._reference(value)
            resources.extend(found.resources)
            return found
        if isinstance(value, (Derived, Secret, FromConfig)):
            found = self._computed(value)
            resources.extend(found.resources)
            return found
        if isinstance(value, Archive):
            import pulumi

            return _Output(pulumi.AssetArchive({name: pulumi.FileAsset(path) for name, path in value.files}))
        if isinstance(value, dict):
            return _Output({key: self.marshal(item, resources) for key, item in value.items()})
        if isinstance(value, (list, tuple)):
            return _Output([self.marshal(item, resources) for item in value])
        return _Output(value)

    def _computed(self, value: Derived | Secret | FromConfig) -> _Output:
        if isinstance(value, FromConfig):
            return _Output(self._secret_config_value(value.key), secret=True)
        if isinstance(value, Secret):
            inner = self._output_of(value.value)
            return _Output(inner.value, inner.known, True, inner.resources)
        arguments = [self._output_of(argument) for argument in _outputs_in(value.arguments)]
        resources = frozenset().union(*(argument.resources for argument in arguments))
        secret = any(argument.secret for argument in arguments)
        if not all(argument.known for argument in arguments):
            return _Output(None, False, secret, resources)
        resolved = {id(argument): found.value for argument, found in zip(_outputs_in(value.arguments), arguments)}
        return _Output(DERIVATIONS[value.function](*_substituted(value.arguments, resolved)), True, secret, resources)

    def _secret_config_value(self, key: str) -> str:
        """`pulumi.Config().require_secret(key)` of the program: the key `<project>:<key>` whatever `key`
        holds, a colon too (pulumi/config.py: `Config._require` -> `Config._get` -> `Config.full_key`,
        f"{self.name}:{key}"), and ConfigMissingError when the stack has no such value."""
        full_key = f"{self.project}:{key}"
        if full_key not in self.secret_config:
            from pulumi.config import ConfigMissingError

            raise ConfigMissingError(full_key, True)
        return self.secret_config[full_key]

    def _output_of(self, value: Any) -> _Output:
        """A value as one Output: its own if it is one, else plain data with Outputs inside resolved."""
        if isinstance(value, Ref):
            return self._reference(value)
        if isinstance(value, (Derived, Secret, FromConfig)):
            return self._computed(value)
        resources: list[str] = []
        marshalled = self._resolve(value, resources)
        return _Output(_plain(marshalled.value), not _contains_unknown(marshalled.value),
                       _contains_secret(marshalled.value), frozenset(resources))

    def _reference(self, reference: Ref) -> _Output:
        if reference.key in self.invocations:
            return self._attribute(self._invocation(self.invocations[reference.key]), reference.output)
        registered = self.registered[reference.key]
        if reference.output == "id":
            return _Output(registered.id, registered.id is not None, False, frozenset([reference.key]))
        if reference.output not in registered.state:
            # An output missing from the provider's answer is unknown in a dry run, None otherwise
            # (rpc.resolve_outputs).
            return _Output(None, not self.preview, False, frozenset([reference.key]))
        value = registered.state[reference.output]
        secret = isinstance(value, SecretValue)
        plain = _plain(value)
        return _Output(plain, not _contains_unknown(plain), secret, frozenset([reference.key]))

    def _attribute(self, result: _Output, name: str) -> _Output:
        if not result.known:
            return result
        return _Output(result.value.get(name), True, result.secret, result.resources)

    def _invocation(self, invocation: Invocation) -> _Output:
        if invocation.key not in self.invoked:
            self.invoked[invocation.key] = self._invoke(invocation)
        return self.invoked[invocation.key]

    def _invoke(self, invocation: Invocation) -> _Output:
        resources: list[str] = []
        arguments = {name: self._resolve(value, resources) for name, value in invocation.arguments.items()}
        if not all(argument.known for argument in arguments.values()) or any(
                _contains_unknown(argument.value) for argument in arguments.values()):
            return _Output(None, False)
        if self.preview and any(self.registered[key].id is None for key in resources
                                if self.registered[key].registration.custom):
            return _Output(None, False)
        provider = self.registered[invocation.provider] if invocation.provider else None
        reference = f"{provider.urn}::{provider.id or UNKNOWN}" if provider else ""
        answer, _ = self.cloud.call(MockCallArgs(token=invocation.token, provider=reference, args={
            name: _plain(argument.value) for name, argument in arguments.items()}))
        secret = any(argument.secret for argument in arguments.values())
        return _Output(_floats(answer), True, secret, frozenset(resources))

    def _marshal_output(self, output: _Output) -> Any:
        """An Output as `rpc.serialize_property` puts it on the wire (secrets as SecretValue here)."""
        if not output.known:
            return SecretValue(UNKNOWN) if output.secret else UNKNOWN
        value = _floats(output.value)
        return SecretValue(value) if output.secret and value is not None else value


_UNCHANGED_LEAVES = frozenset({str, float, type(None)})
"""Leaves every walk below returns as they are (exactly these types: a subclass may be a secret or an asset)."""


def _environment_defaults(profile: ClassProfile) -> dict[str, Any]:
    defaults = {}
    for name, variables in profile.environment_defaults.items():
        found = next((os.environ[variable] for variable in variables if os.environ.get(variable)), None)
        if found is not None:
            defaults[name] = found
    return defaults


def _outputs_in(value: Any) -> list[Any]:
    """The Outputs among a Derived's arguments, each object once, in order (as realize collects them)."""
    found: list[Any] = []

    def collect(item: Any) -> None:
        if isinstance(item, (Ref, Derived, Secret, FromConfig)):
            if all(item is not seen for seen in found):
                found.append(item)
        elif isinstance(item, dict):
            for inner in item.values():
                collect(inner)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                collect(inner)

    collect(value)
    return found


def _substituted(value: Any, resolved: Mapping[int, Any]) -> Any:
    if type(value) in _UNCHANGED_LEAVES:
        return value
    if isinstance(value, (Ref, Derived, Secret, FromConfig)):
        return resolved[id(value)]
    if isinstance(value, dict):
        return {key: _substituted(item, resolved) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, resolved) for item in value]
    if isinstance(value, tuple):
        return tuple(_substituted(item, resolved) for item in value)
    return value


def _floats(value: Any) -> Any:
    """Numbers as they come back from the wire: protobuf's Value holds doubles only."""
    if type(value) in _UNCHANGED_LEAVES:  # most values: a plain string (the checks below take 5 times longer)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, SecretValue):
        return SecretValue(_floats(value.reveal()))
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_floats(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """Secrets unwrapped (a Derived computes with the values themselves)."""
    if type(value) in _UNCHANGED_LEAVES:
        return value
    if isinstance(value, SecretValue):
        return _plain(value.reveal())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, SecretValue):
        return _contains_unknown(value.reveal())
    if isinstance(value, dict):
        return any(_contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(item) for item in value)
    return False


def _contains_secret(value: Any) -> bool:
    if type(value) in _UNCHANGED_LEAVES:
        return False
    if isinstance(value, SecretValue):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_secret(item) for item in value)
    return False


def _as_received(state: dict[str, Any]) -> dict[str, Any]:
    """The provider's answer as the program receives it (numbers as floats)."""
    return _floats(state)
