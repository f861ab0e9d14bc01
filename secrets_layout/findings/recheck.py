"""The structured finding behind a violation the policy pack reported.

The pack answers over Pulumi's analyzer protocol, which carries a violation as text (AnalyzeDiagnostic:
policy name, URN, message). To place a violation at the YAML field that causes it, the preview runs
the same registered check (policies/catalog.py) in this process, on the request it sent the pack,
converted the way the pack converts it (pulumi_policy's ``deserialize_properties`` of the request's
Struct, then ``policies.pack.to_plain``), and takes the finding whose rendered message is the
violation's. A violation no finding renders to (a pack of another version) stays located at its
resource's line with the pack's own text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from secrets_layout.engine.analyzer_messages import Resource as AnalyzerResource
from secrets_layout.engine.analyzer_messages import make_urn, to_struct
from secrets_layout.policies.catalog import BY_NAME
from secrets_layout.policies.definition import PolicyDefinition
from secrets_layout.policies.findings import CannotCheck, Finding, NotApplicable
from secrets_layout.policies.resources import Resource


@dataclass(frozen=True)
class Run:
    """One simulation as the pack was sent it: Analyze inputs and AnalyzeStack states."""

    inputs: Sequence[AnalyzerResource]
    states: Sequence[AnalyzerResource]


@dataclass
class FindingResolver:
    runs: Sequence[Run]
    configured: Mapping[str, Mapping[str, Any]]
    _stack_findings: dict[tuple[int, str], list[tuple[str, Finding]]] = field(default_factory=dict)
    _by_urn: dict[int, dict[str, AnalyzerResource]] = field(default_factory=dict)

    def finding(self, policy: str, urn: str, message: str) -> Finding | None:
        definition = BY_NAME.get(policy)
        if definition is None:
            return None
        for index, run in enumerate(self.runs):
            for found in self._findings(definition, index, run, urn):
                if found.message == message:
                    return found
        return None

    def _config(self, definition: PolicyDefinition) -> Mapping[str, Any]:
        return (self.configured.get(definition.name) or {}).get("properties") or {}

    def _findings(self, definition: PolicyDefinition, index: int, run: Run, urn: str) -> list[Finding]:
        if definition.stack:
            key = (index, definition.name)
            if key not in self._stack_findings:
                resources = [as_the_pack_sees(r) for r in run.states if definition.applies_to(r.type)]
                try:
                    self._stack_findings[key] = definition.check(resources, self._config(definition)).findings
                except NotApplicable:
                    self._stack_findings[key] = []
            return [found for where, found in self._stack_findings[key] if where == urn]
        if index not in self._by_urn:
            # Once per run: each violation of a large stack would otherwise index every resource again.
            self._by_urn[index] = {r.resolved_urn: r for r in run.inputs}
        by_urn = self._by_urn[index]
        resource = by_urn.get(urn)
        if resource is None or not definition.applies_to(resource.type):
            return []
        try:
            return definition.check(as_the_pack_sees(resource), self._config(definition))
        except (NotApplicable, CannotCheck):
            return []


def as_the_pack_sees(resource: AnalyzerResource) -> Resource:
    """The resource as policies/pack.py hands it to a check (pulumi_policy/policy.py: ``Analyze`` and
    ``AnalyzeStack`` deserialize ``json_format.MessageToDict(request.properties)``)."""
    # Imported here: only a preview with violations needs pulumi_policy in this process.
    from google.protobuf import json_format
    from pulumi_policy.deserialize import deserialize_properties

    from secrets_layout.policies.pack import to_plain

    def plain(properties: Mapping[str, Any]) -> dict[str, Any]:
        return to_plain(deserialize_properties(json_format.MessageToDict(to_struct(properties)))) or {}

    provider = resource.provider
    return Resource(
        type=resource.type, props=plain(resource.properties), urn=resource.resolved_urn, name=resource.name,
        protect=bool(resource.protect),
        provider_props=plain(provider.properties) if provider is not None else None,
        provider_urn=(provider.urn or make_urn(provider.type, provider.name)) if provider is not None else "",
        dependencies=tuple(resource.dependencies),
        property_dependencies={key: tuple(urns) for key, urns in resource.property_dependencies.items()})
