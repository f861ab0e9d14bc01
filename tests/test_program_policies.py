"""The layout each example stack deploys passes the organisation's policies (policies/config/<env>.json).

The pack's checks are pure functions (policies/catalog.py); here they judge the resources that
__main__.py registers on the mock engine, with each environment's policy config, the way the
analyzer would (resource rules per resource, the stack rule over all of them).
"""

from __future__ import annotations

import json

import pytest

from components_support import ROOT, run_program
from secrets_layout.engine.recorded_values import RegisteredResource, mask
from secrets_layout.policies.catalog import POLICIES
from secrets_layout.policies.findings import CannotCheck, NotApplicable
from secrets_layout.policies.resources import Resource

STACKS = ["dev", "staging", "prod", "shared-services"]


def as_policy_resource(resource: RegisteredResource, providers: dict[str, RegisteredResource]) -> Resource:
    provider = providers.get(resource.provider or "")
    return Resource(
        type=resource.type,
        props=mask({**resource.inputs, **resource.outputs}),
        urn=resource.urn,
        name=resource.name,
        protect=bool(resource.protect),
        provider_props=mask(provider.inputs) if provider else None,
        provider_urn=provider.urn if provider else "",
        dependencies=resource.dependencies,
        property_dependencies=dict(resource.property_dependencies),
    )


def policy_config(stack: str) -> dict[str, dict]:
    return json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())


@pytest.mark.parametrize("mode", ["preview", "up"])
@pytest.mark.parametrize("stack", STACKS)
def test_example_layouts_have_no_policy_violation(stack, mode):
    """In a dry run (unknown computed outputs) as in a deployment: no violation; in the deployment every
    policy decides (nothing is left "cannot check")."""
    simulation = run_program(stack, mode=mode)
    providers = {r.urn: r for r in simulation.resources if r.is_provider}
    resources = [as_policy_resource(r, providers) for r in simulation.resources if r.custom]
    config = policy_config(stack)
    violations, undecided = [], []
    for policy in POLICIES:
        settings = dict(config.get(policy.name, {}))
        if settings.pop("enforcementLevel", "mandatory") == "disabled":
            continue
        judged = [resource for resource in resources if policy.applies_to(resource.type)]
        if policy.stack:
            verdict = policy.check(judged, settings)
            violations += [(policy.name, urn, finding.message) for urn, finding in verdict.findings]
            if verdict.undecided:
                undecided.append((policy.name, "", verdict.undecided))
            continue
        for resource in judged:
            try:
                violations += [(policy.name, resource.name, finding.message) for finding in policy.check(resource, settings)]
            except NotApplicable:
                continue
            except CannotCheck as error:
                undecided.append((policy.name, resource.name, error.what))
    assert violations == []
    if mode == "up":
        assert undecided == []
