"""Analyzer requests built the way the Pulumi engine builds them, for `pulumi preview` and `pulumi up`.

Held-out style: the policy pack is given protobuf requests made here from first principles, not
from this repository's simulation, so the tests catch a pack that misjudges what the engine sends.

What the engine sends (sources, as read for this builder):

- ``Analyze`` once per resource, with the resource's inputs after the provider's ``Check``
  (pulumi/pkg/resource/deploy/step_generator.go: ``Properties: inputs`` after ``prov.Check`` with
  ``AllowUnknowns: DryRun``) and the provider's own inputs (``providerResource.Inputs``).
- ``AnalyzeStack`` once, with every resource's *outputs* (step_generator.go ``AnalyzeResources``:
  ``Properties: v.Outputs``), its parent, dependencies and property dependencies.
- Both marshal with ``MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipInternalKeys: true}``
  (pulumi/pkg/resource/plugin/analyzer_plugin.go): an unknown value becomes a sentinel string,
  ``UnknownStringValue`` "04da6b54-..." for the string-typed unknowns that programs and the
  Terraform bridge produce (sdk/go/common/resource/plugin/rpc.go ``marshalUnknownProperty``), kept
  nested where it is nested (``replicas[0].kmsKeyId``); numbers are doubles (google.protobuf.Struct).
- During a preview a resource being created has no outputs of its own yet: the provider's Create runs
  with preview=true and plans every computed attribute as unknown (pulumi/pkg/resource/plugin/
  provider_plugin.go ``Create``), so outputs are the checked inputs plus unknown computed values; an
  input built from such an output is unknown too (the SDK serializes an unknown Output as the
  sentinel, pulumi/runtime/rpc.py). A resource that already exists keeps its known outputs.
- pulumi-aws's Python SDK sends a provider's object inputs (``defaultTags``, ``allowedAccountIds``)
  as JSON strings (pulumi_aws/provider.py: ``.apply(pulumi.runtime.to_json)``), which is unknown as
  a whole when anything in it is unknown.
- ``Check`` defaults: older pulumi-terraform-bridge versions return the Terraform schema defaults
  from Check (pkg/tfbridge/provider.go: "Now fetch the default values so that (a) we can return them
  to the caller", ``MakeTerraformInputs``), so e.g. ``recoveryWindowInDays: 30`` reaches Analyze although
  the program did not set it; newer ones call ``makeTerraformInputsWithoutTFDefaults``.  The builder
  sends the program's inputs; put a default into ``inputs`` to model an older bridge.
- pulumi_policy (pulumi_policy/deserialize.py, proxy.py) keeps the sentinel strings and raises
  ``UnknownValueError`` when a policy reads one, reported as an advisory "can't run policy ... during
  preview".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
MODES = ("preview", "up")


@dataclass(frozen=True)
class Out:
    """An input that is another resource's output, e.g. ``Out("db", "arn")`` for ``db.arn``."""

    resource: str
    key: str


@dataclass
class Res:
    """A resource of the program: its inputs (values or :class:`Out`), what the provider computes on
    create (the values after ``up``), and whether it exists already (then its outputs are known in a
    preview too)."""

    type: str
    name: str
    inputs: Dict[str, Any] = field(default_factory=dict)
    computed: Dict[str, Any] = field(default_factory=dict)
    provider: Optional[str] = None
    protect: bool = False
    exists: bool = False


@dataclass
class Prov:
    name: str
    inputs: Dict[str, Any] = field(default_factory=dict)
    type: str = "pulumi:providers:aws"


class Stack:
    def __init__(self, *, stack: str = "prod", project: str = "held-out") -> None:
        self.stack, self.project = stack, project
        self.resources: List[Res] = []
        self.providers: Dict[str, Prov] = {}

    def provider(self, name: str, **inputs: Any) -> "Stack":
        self.providers[name] = Prov(name, inputs)
        return self

    def add(self, *resources: Res) -> "Stack":
        self.resources.extend(resources)
        return self

    # -- names -------------------------------------------------------------------------------------

    def urn(self, name: str) -> str:
        if name in self.providers:
            return f"urn:pulumi:{self.stack}::{self.project}::{self.providers[name].type}::{name}"
        found = self._res(name)
        return f"urn:pulumi:{self.stack}::{self.project}::{found.type}::{found.name}"

    def _res(self, name: str) -> Res:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)

    # -- values ------------------------------------------------------------------------------------

    def _outputs_up(self, resource: Res) -> Dict[str, Any]:
        inputs, _ = self._resolve(resource.inputs, "up")
        return {**inputs, **resource.computed}

    def _output(self, ref: Out, mode: str) -> Any:
        target = self._res(ref.resource)
        value = self._outputs_up(target).get(ref.key)
        if mode == "up" or target.exists:
            return value
        given, _ = self._resolve(target.inputs, mode)
        if ref.key in target.computed and given.get(ref.key) != value:
            return UNKNOWN
        return given.get(ref.key, UNKNOWN)

    def _resolve(self, value: Any, mode: str) -> Tuple[Any, set]:
        if isinstance(value, Out):
            return self._output(value, mode), {self.urn(value.resource)}
        if isinstance(value, dict):
            result, deps = {}, set()
            for key, item in value.items():
                result[key], found = self._resolve(item, mode)
                deps |= found
            return result, deps
        if isinstance(value, list):
            items = [self._resolve(item, mode) for item in value]
            return [item for item, _ in items], set().union(*(found for _, found in items))
        return value, set()

    def _provider_inputs(self, provider: Prov, mode: str) -> Dict[str, Any]:
        result = {}
        for key, value in provider.inputs.items():
            resolved, _ = self._resolve(value, mode)
            if isinstance(resolved, str):
                result[key] = resolved
            elif _has_unknown(resolved):
                result[key] = UNKNOWN
            else:
                result[key] = json.dumps(resolved)
        return result

    # -- requests ----------------------------------------------------------------------------------

    def _provider_message(self, resource: Res, mode: str) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        if resource.provider is None:
            return None
        provider = self.providers[resource.provider]
        return analyzer_pb2.AnalyzerProviderResource(
            type=provider.type, name=provider.name, urn=self.urn(provider.name),
            properties=_struct(self._provider_inputs(provider, mode)))

    def requests(self, mode: str) -> Tuple[List[analyzer_pb2.AnalyzeRequest], analyzer_pb2.AnalyzeStackRequest]:
        """The ``Analyze`` requests (one per resource) and the ``AnalyzeStack`` request of a run."""
        if mode not in MODES:
            raise ValueError(mode)
        analyze, stack = [], analyzer_pb2.AnalyzeStackRequest()
        for resource in self.resources:
            inputs, _ = self._resolve(resource.inputs, mode)
            options = analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect)
            provider = self._provider_message(resource, mode)
            request = analyzer_pb2.AnalyzeRequest(type=resource.type, name=resource.name, urn=self.urn(resource.name),
                                                  properties=_struct(inputs), options=options)
            if provider is not None:
                request.provider.CopyFrom(provider)
            analyze.append(request)

            if mode == "up" or resource.exists:
                outputs = self._outputs_up(resource)
            else:
                outputs = {**inputs, **{key: inputs[key] if inputs.get(key) == value else UNKNOWN
                                        for key, value in resource.computed.items()}}
            item = stack.resources.add()
            item.type, item.name, item.urn = resource.type, resource.name, self.urn(resource.name)
            item.properties.CopyFrom(_struct(outputs))
            item.options.CopyFrom(options)
            dependencies = set()
            for key, value in resource.inputs.items():
                _, deps = self._resolve(value, mode)
                if deps:
                    item.propertyDependencies[key].urns.extend(sorted(deps))
                    dependencies |= deps
            item.dependencies.extend(sorted(dependencies))
            if provider is not None:
                item.provider.CopyFrom(provider)
        return analyze, stack


def _has_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _struct(properties: Dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(properties)
    return struct


def run(client, stack: Stack, mode: str):
    """Send a run's requests to a configured pack (``AnalyzerClient``); the diagnostics of both calls."""
    analyze, stack_request = stack.requests(mode)
    result = client.analyze_request(analyze[0]) if analyze else None
    for request in analyze[1:]:
        result.extend(client.analyze_request(request))
    return result.extend(client.analyze_stack_request(stack_request))
