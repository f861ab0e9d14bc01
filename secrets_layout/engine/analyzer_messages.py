"""The analyzer protocol's message model and its marshalling, without the pack process.

What the engine sends a policy pack and what the pack answers, as plain data:

- `Resource` and `Provider` (what is analyzed), `make_urn`, `secret` (a value marked secret as the engine
  marks it) and `UNKNOWN` (the engine's sentinel for a value unknown during a preview);
- `Violation`, `NotApplicable`, `AnalysisResult` (the answers) and `PackInfo` (``GetAnalyzerInfo``);
- the marshalling both ways: `to_struct` (properties, assets and archives as the engine puts them on the
  wire), `resource_options`, `provider_message`, `configure_request`, `pack_info` and
  `collect_diagnostics`.

The process that serves these messages is engine/analyzer_client.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from secrets_layout.engine.policy_config import PolicyInfo, whole_numbers

__all__ = [
    "LEVEL_TO_PROTO",
    "PROTO_TO_LEVEL",
    "UNKNOWN",
    "AnalysisResult",
    "NotApplicable",
    "PackInfo",
    "Provider",
    "Resource",
    "Violation",
    "collect_diagnostics",
    "configure_request",
    "make_urn",
    "pack_info",
    "provider_message",
    "resource_options",
    "secret",
    "to_struct",
]

#: Pulumi's sentinel for a string (or any) value that is unknown during a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"

LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
PROTO_TO_LEVEL = {value: key for key, value in LEVEL_TO_PROTO.items()}


def make_urn(resource_type: str, name: str, *, stack: str = "dev", project: str = "secrets-layout",
             parent_type: Optional[str] = None) -> str:
    """``urn:pulumi:<stack>::<project>::[<parent type>$]<type>::<name>``."""
    qualified = f"{parent_type}${resource_type}" if parent_type else resource_type
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def secret(value: Any) -> Dict[str, Any]:
    """A property value marked secret, the way the engine marks it on the wire."""
    return {_SIG_KEY: _SECRET_SIG, "value": value}


@dataclass
class Provider:
    """The provider of a resource (``AnalyzerProviderResource``)."""

    type: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    urn: Optional[str] = None


@dataclass
class Resource:
    """One resource to analyze: its type token, name and (camelCase) properties, plus options.

    For ``Analyze`` the properties are the resource's inputs; for ``AnalyzeStack`` the engine sends
    outputs (which include ``id``/``arn``), so pass what you have.  ``urn`` defaults to
    :func:`make_urn` of type and name.
    """

    type: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    urn: Optional[str] = None
    protect: bool = False
    parent: str = ""
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    provider: Optional[Provider] = None
    ignore_changes: Sequence[str] = ()
    delete_before_replace: Optional[bool] = None
    aliases: Sequence[str] = ()
    additional_secret_outputs: Sequence[str] = ()

    @property
    def resolved_urn(self) -> str:
        return self.urn or make_urn(self.type, self.name)


@dataclass(frozen=True)
class Violation:
    """A policy diagnostic.  ``message`` is what the CLI prints: the policy description, a newline and
    the policy's own message (:attr:`detail`), or pulumi_policy's "can't run policy ... during
    preview" advisory for unknown values."""

    policy: str
    level: str            # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str
    message: str
    description: str = ""
    pack: str = ""

    @property
    def detail(self) -> str:
        prefix = self.description + "\n"
        return self.message[len(prefix):] if self.description and self.message.startswith(prefix) else self.message


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    reason: str
    urn: str = ""


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: Tuple[PolicyInfo, ...]
    initial_config: Dict[str, Dict[str, Any]]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


@dataclass
class AnalysisResult:
    violations: List[Violation] = field(default_factory=list)
    not_applicable: List[NotApplicable] = field(default_factory=list)

    @property
    def mandatory(self) -> List[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> List[Violation]:
        return [v for v in self.violations if v.level == "advisory"]

    def by_policy(self, policy: str) -> List[Violation]:
        return [v for v in self.violations if v.policy == policy]

    def extend(self, other: "AnalysisResult") -> "AnalysisResult":
        self.violations.extend(other.violations)
        self.not_applicable.extend(other.not_applicable)
        return self


def _asset(value: Any, path: str) -> Optional[Dict[str, Any]]:
    """Assets and archives the way the engine puts them on the wire (signature maps), else None."""
    import pulumi  # the SDK is loaded anyway by the generated protobuf modules

    if isinstance(value, pulumi.FileAsset):
        return {_SIG_KEY: _ASSET_SIG, "path": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {_SIG_KEY: _ASSET_SIG, "text": value.text}
    if isinstance(value, pulumi.RemoteAsset):
        return {_SIG_KEY: _ASSET_SIG, "uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {_SIG_KEY: _ARCHIVE_SIG,
                "assets": {k: _plain(v, f"{path}.assets.{k}") for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive):
        return {_SIG_KEY: _ARCHIVE_SIG, "path": value.path}
    if isinstance(value, pulumi.RemoteArchive):
        return {_SIG_KEY: _ARCHIVE_SIG, "uri": value.uri}
    return None


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: property names must be strings, got {key!r}")
            result[key] = _plain(item, f"{path}.{key}")
        return result
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    asset = _asset(value, path)
    if asset is not None:
        return asset
    raise TypeError(f"{path}: {type(value).__name__} values cannot be sent to the policy pack")


def to_struct(properties: Optional[Mapping[str, Any]]) -> struct_pb2.Struct:
    """Resource properties -> ``google.protobuf.Struct`` (numbers become doubles, as on the wire)."""
    struct = struct_pb2.Struct()
    if properties:
        struct.update(_plain(properties, "properties"))
    return struct


def resource_options(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    """The resource's options as the engine sends them (``AnalyzerResourceOptions``)."""
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.protect),
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        aliases=list(resource.aliases),
        parent=resource.parent or "",
    )


def provider_message(provider: Provider) -> analyzer_pb2.AnalyzerProviderResource:
    """A provider as the engine sends it with each resource (``AnalyzerProviderResource``)."""
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, name=provider.name, properties=to_struct(provider.properties),
        urn=provider.urn or make_urn(provider.type, provider.name))


def configure_request(reconciled: Mapping[str, Mapping[str, Any]]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The ``Configure`` request for a reconciled config (`policy_config.reconcile_config`)."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, entry in reconciled.items():
        policy_config = request.policyConfig[name]
        policy_config.enforcementLevel = LEVEL_TO_PROTO[entry["enforcementLevel"]]
        policy_config.properties.CopyFrom(to_struct(entry["properties"]))
    return request


def pack_info(reply: analyzer_pb2.AnalyzerInfo) -> PackInfo:
    """A ``GetAnalyzerInfo`` reply as the pack's name, version, policies and initial config."""
    policies = []
    for p in reply.policies:
        schema = None
        if p.HasField("configSchema") and (len(p.configSchema.properties) or p.configSchema.required):
            schema = {"properties": whole_numbers(json_format.MessageToDict(p.configSchema.properties)),
                      "required": list(p.configSchema.required)}
        kind = {analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
                analyzer_pb2.POLICY_TYPE_STACK: "stack"}.get(p.policy_type, "unknown")
        policies.append(PolicyInfo(p.name, p.description, PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
                                   kind, schema))
    initial = {}
    for name, config in reply.initialConfig.items():
        entry = whole_numbers(json_format.MessageToDict(config.properties))
        entry["enforcementLevel"] = PROTO_TO_LEVEL.get(config.enforcementLevel, "advisory")
        initial[name] = entry
    return PackInfo(reply.name, reply.version, reply.description, tuple(policies), initial)


def collect_diagnostics(reply: analyzer_pb2.AnalyzeResponse, urn: str, result: AnalysisResult) -> None:
    """The reply's diagnostics and not-applicable notes into `result` (`urn`: the resource asked about)."""
    for d in reply.diagnostics:
        result.violations.append(Violation(
            policy=d.policyName, level=PROTO_TO_LEVEL.get(d.enforcementLevel, "advisory"),
            urn=d.urn or urn, message=d.message, description=d.description, pack=d.policyPackName))
    for n in reply.not_applicable:
        result.not_applicable.append(NotApplicable(n.policy_name, n.reason, urn))
