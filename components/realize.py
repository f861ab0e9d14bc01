"""Realizing a plan with the Pulumi SDK: each Registration becomes the SDK's resource of its type, in
plan order, so the engine receives what it received when the components built resources directly.

- A custom resource is its pulumi_aws / pulumi_random class, called with the plan's inputs under the
  class's own Python names (the SDK's name table, `pulumi._types.resource_pulumi_to_py_names`); nested
  objects keep the engine's names, which the SDK sends as they are.
- A component is an instance of its public class (`COMPONENTS`), made without building children (the
  plan holds them), then given its children (`_take`) and its registered outputs, innermost first.
- A `Ref` is the referenced resource's Output (so the input depends on it, as the engine expects), a
  `Derived` an `Output.all(...).apply` of its function, a `Secret` an `Output.secret`, a `FromConfig`
  the stack config's secret, an `Archive` an AssetArchive of FileAssets, an `External` what the
  component was given (`Bindings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pulumi import _types

from secrets_layout.components.plan.builder import External, key_of
from secrets_layout.components.plan.derivations import DERIVATIONS
from secrets_layout.components.plan.model import Archive, Derived, FromConfig, Invocation, Plan, Ref, Registration, Secret

CUSTOM_TYPES: Mapping[str, type] = {
    "pulumi:providers:aws": aws.Provider,
    "aws:kms/key:Key": aws.kms.Key,
    "aws:kms/alias:Alias": aws.kms.Alias,
    "aws:secretsmanager/secret:Secret": aws.secretsmanager.Secret,
    "aws:secretsmanager/secretVersion:SecretVersion": aws.secretsmanager.SecretVersion,
    "aws:secretsmanager/secretPolicy:SecretPolicy": aws.secretsmanager.SecretPolicy,
    "aws:secretsmanager/secretRotation:SecretRotation": aws.secretsmanager.SecretRotation,
    "random:index/randomPassword:RandomPassword": random.RandomPassword,
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": aws.serverlessrepository.CloudFormationStack,
    "aws:iam/role:Role": aws.iam.Role,
    "aws:iam/rolePolicy:RolePolicy": aws.iam.RolePolicy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": aws.iam.RolePolicyAttachment,
    "aws:lambda/function:Function": aws.lambda_.Function,
    "aws:lambda/permission:Permission": aws.lambda_.Permission,
    "aws:ssm/parameter:Parameter": aws.ssm.Parameter,
    "aws:sns/topic:Topic": aws.sns.Topic,
    "aws:sns/topicPolicy:TopicPolicy": aws.sns.TopicPolicy,
    "aws:sns/topicSubscription:TopicSubscription": aws.sns.TopicSubscription,
    "aws:cloudwatch/eventRule:EventRule": aws.cloudwatch.EventRule,
    "aws:cloudwatch/eventTarget:EventTarget": aws.cloudwatch.EventTarget,
}
"""The SDK class of each resource type the layout registers."""

INVOCATIONS: Mapping[str, Callable[..., Any]] = {
    "aws:lambda/getFunction:getFunction": aws.lambda_.get_function_output,
}
"""The SDK function (output form) of each provider function the layout calls, by token."""


COMPONENTS: Mapping[str, str] = {
    "secrets-layout:layout:SecretsLayout": "layout.SecretsLayout",
    "secrets-layout:kms:RegionalKey": "kms.RegionalKey",
    "secrets-layout:rotation:ManagedRotationApp": "rotation.ManagedRotationApp",
    "secrets-layout:rotation:BundledRotationFunction": "rotation.BundledRotationFunction",
    "secrets-layout:secret:ManagedSecret": "secret.ManagedSecret",
    "secrets-layout:consumer:ConsumerGrants": "consumer.ConsumerGrants",
    "secrets-layout:parameters:ParameterSet": "parameters.ParameterSet",
    "secrets-layout:alerts:RotationAlerts": "alerts.RotationAlerts",
}
"""The public class of each component type, as `module.Class` of secrets_layout.components."""


def _component_class(component_type: str) -> type[PlannedComponent]:
    import importlib

    module, name = COMPONENTS[component_type].split(".")
    return getattr(importlib.import_module(f"secrets_layout.components.{module}"), name)


class Bindings:
    """What a component's plan names from outside it, by External: the provider objects and Outputs
    its args hold (a user's program may pass any)."""

    def __init__(self, config: pulumi.Config | None = None) -> None:
        self._values: list[Any] = []
        self.config = config

    def external(self, value: Any) -> Any:
        """`value` as the plan holds it: plain data as it is, anything else as an External."""
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        self._values.append(value)
        return External(len(self._values) - 1)

    def __getitem__(self, external: External) -> Any:
        return self._values[external.index]


@dataclass
class Realized:
    """The resources (and invocation results) made so far, by plan key."""

    plan: Plan
    bindings: Bindings
    resources: dict[str, Any] = field(default_factory=dict)
    _registrations: dict[str, Registration] | None = None

    def __getitem__(self, key: str) -> Any:
        return self.resources[key]

    def get(self, key: str) -> Any:
        return self.resources.get(key)

    def part(self, resource_type: str, name: str) -> Any:
        """The realized resource of this type and logical name; None if the plan has none."""
        return self.resources.get(key_of(resource_type, name))

    def children(self, parent: str, resource_type: str) -> dict[str, Any]:
        """The realized children of `parent` (a key) of one type, by logical name, in plan order."""
        return {registration.name: self.resources[registration.key] for registration in self.plan.registrations
                if registration.parent == parent and registration.type == resource_type}

    def outputs_of(self, key: str) -> Mapping[str, Any]:
        """A component's registered outputs, as the plan holds them."""
        if self._registrations is None:
            self._registrations = self.plan.by_key()
        return self._registrations[key].outputs

    def value(self, value: Any) -> Any:
        """A plan value as an SDK input."""
        if isinstance(value, Ref):
            return _output(self.resources[value.key], value.output)
        if isinstance(value, External):
            return self.bindings[value]
        if isinstance(value, Derived):
            return self._derived(value)
        if isinstance(value, Secret):
            return pulumi.Output.secret(self.value(value.value))
        if isinstance(value, FromConfig):
            return (self.bindings.config or pulumi.Config()).require_secret(value.key)
        if isinstance(value, Archive):
            return pulumi.AssetArchive({name: pulumi.FileAsset(path) for name, path in value.files})
        if isinstance(value, Mapping):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def _derived(self, derived: Derived) -> Any:
        function = DERIVATIONS[derived.function]
        references: list[Any] = []
        _collect(derived.arguments, references)
        if not references:
            return function(*derived.arguments)
        inputs = [self.value(reference) for reference in references]

        def apply(values: list[Any]) -> Any:
            resolved = dict(zip(map(id, references), values))
            return function(*_substitute(derived.arguments, resolved))

        return pulumi.Output.all(*inputs).apply(apply)


def _collect(value: Any, found: list[Any]) -> None:
    """What in a value the SDK holds as Outputs: Refs, Externals and nested Derived and Secret values,
    in order (each object once)."""
    if isinstance(value, (Ref, External, Derived, Secret)):
        if all(value is not seen for seen in found):
            found.append(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)


def _substitute(value: Any, resolved: Mapping[int, Any]) -> Any:
    if isinstance(value, (Ref, External, Derived, Secret)):
        return resolved[id(value)]
    if isinstance(value, Mapping):
        return {key: _substitute(item, resolved) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, resolved) for item in value]
    if isinstance(value, tuple):
        return tuple(_substitute(item, resolved) for item in value)
    return value


def _output(resource: Any, name: str) -> Any:
    """The Output `name` (the engine's name) of a realized resource or invocation result."""
    if name == "id" and isinstance(resource, pulumi.CustomResource):
        return resource.id
    if isinstance(resource, pulumi.Resource):
        return getattr(resource, _types.resource_pulumi_to_py_names(type(resource)).get(name, name))
    return getattr(resource, _snake(name))


def _snake(name: str) -> str:
    return "".join(f"_{character.lower()}" if character.isupper() else character for character in name)


def _kwargs(cls: type, inputs: Mapping[str, Any], realized: Realized) -> dict[str, Any]:
    names = _types.resource_pulumi_to_py_names(cls)
    return {names.get(name, _snake(name)): realized.value(value) for name, value in inputs.items()}


def _options(registration: Registration, realized: Realized) -> pulumi.ResourceOptions:
    options = registration.options
    settings: dict[str, Any] = {"parent": realized.get(registration.parent) if registration.parent else None}
    if registration.provider is not None:
        settings["provider"] = realized.value(registration.provider) if isinstance(registration.provider, External) \
            else realized[registration.provider]
    if options.protect is not None:
        settings["protect"] = options.protect
    if options.import_id is not None:
        settings["import_"] = options.import_id
    if options.ignore_changes:
        settings["ignore_changes"] = list(options.ignore_changes)
    if options.additional_secret_outputs:
        settings["additional_secret_outputs"] = list(options.additional_secret_outputs)
    if options.depends_on:
        settings["depends_on"] = [realized.value(key) if isinstance(key, External) else realized[key]
                                  for key in options.depends_on]
    return pulumi.ResourceOptions(**settings)


def _invoke(invocation: Invocation, realized: Realized) -> Any:
    function = INVOCATIONS[invocation.token]
    options: dict[str, Any] = {"parent": realized.get(invocation.parent) if invocation.parent else None}
    if invocation.provider is not None:
        options["provider"] = realized.value(invocation.provider) if isinstance(invocation.provider, External) \
            else realized[invocation.provider]
    arguments = {_snake(name): realized.value(value) for name, value in invocation.arguments.items()}
    return function(**arguments, opts=pulumi.InvokeOutputOptions(**options))


def realize(plan: Plan, *, existing: Mapping[str, pulumi.Resource], bindings: Bindings) -> Realized:
    """Every registration of `plan` that `existing` does not hold, then each component's children and
    outputs (innermost first)."""
    realized = Realized(plan, bindings, dict(existing))
    pending_invocations = list(plan.invocations)
    for registration in plan.registrations:
        pending_invocations = _invocations_ready(pending_invocations, realized)
        if registration.key in realized.resources:
            continue
        options = _options(registration, realized)
        if registration.component:
            realized.resources[registration.key] = _component_class(registration.type).hollow(registration.name, options)
            continue
        cls = CUSTOM_TYPES[registration.type]
        realized.resources[registration.key] = cls(registration.name, **_kwargs(cls, registration.inputs, realized),
                                                   opts=options)
    _invocations_ready(pending_invocations, realized)
    for registration in reversed(plan.registrations):
        if registration.component:
            component = realized[registration.key]
            component.take(realized)
            component.register_outputs(realized.value(registration.outputs))
    return realized


def _invocations_ready(pending: list[Invocation], realized: Realized) -> list[Invocation]:
    """Invoke what the resources made so far allow (an invocation's arguments name resources that must
    exist first); the rest stays pending."""
    waiting = []
    for invocation in pending:
        keys = [reference.key for reference in _refs(invocation.arguments)]
        if all(key in realized.resources for key in keys) and (invocation.parent is None
                                                              or invocation.parent in realized.resources):
            realized.resources[invocation.key] = _invoke(invocation, realized)
        else:
            waiting.append(invocation)
    return waiting


def _refs(value: Any) -> list[Ref]:
    """Every Ref in a value, Derived and Secret values included."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Derived):
        return _refs(value.arguments)
    if isinstance(value, Secret):
        return _refs(value.value)
    if isinstance(value, Mapping):
        return [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in _refs(item)]
    return []


class PlannedComponent(pulumi.ComponentResource):
    """A public component whose children come from its plan: built alone (`__init__` plans and realizes
    its own subtree), or made `hollow` by an enclosing component's realization, which plans it. Either
    way `take` gives it its children's attributes once they exist."""

    TYPE = ""

    @classmethod
    def hollow(cls, name: str, opts: pulumi.ResourceOptions | None) -> PlannedComponent:
        component = cls.__new__(cls)
        pulumi.ComponentResource.__init__(component, cls.TYPE, name, None, opts)
        return component

    def take(self, realized: Realized) -> None:
        raise NotImplementedError

    @property
    def _key(self) -> str:
        """This component's key in its plan."""
        return key_of(self.TYPE, self._name)

    def _realize_alone(self, plan: Plan, bindings: Bindings) -> None:
        realize(plan, existing={self._key: self}, bindings=bindings)
