"""The layout each example stack deploys passes the organisation's policies (policies/config/<env>.json).

The pack's rules are pure functions (policies/rules.py); here they judge the resources that
__main__.py registers on the mock engine, with each environment's policy config, the way the
analyzer would (resource rules per resource, the stack rule over all of them).
"""

from __future__ import annotations

import json

import pytest

from components_support import ROOT, run_program
from secrets_layout.engine.simulation import RegisteredResource, mask
from secrets_layout.policies import rules

STACKS = ["dev", "staging", "prod", "shared-services"]


def as_policy_resource(resource: RegisteredResource, providers: dict[str, RegisteredResource]) -> rules.Resource:
    provider = providers.get(resource.provider or "")
    return rules.Resource(
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
    for name, (types, rule) in rules.RESOURCE_RULES.items():
        settings = dict(config.get(name, {}))
        if settings.pop("enforcementLevel", "mandatory") == "disabled":
            continue
        for resource in resources:
            if resource.type not in types:
                continue
            try:
                violations += [(name, resource.name, message) for message in rule(resource, settings)]
            except rules.NotApplicable:
                continue
            except rules.CannotCheck as error:
                undecided.append((name, resource.name, error.what))
    for name, rule in rules.STACK_RULES.items():
        settings = dict(config.get(name, {}))
        settings.pop("enforcementLevel", None)
        found, reason = rule(resources, settings)
        violations += [(name, urn, message) for urn, message in found]
        if reason:
            undecided.append((name, "", reason))
    assert violations == []
    if mode == "up":
        assert undecided == []
