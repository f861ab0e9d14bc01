"""The real program (__main__.py, components, environments/*.yaml) on the SDK mock engine, driven
through the pack over the analyzer protocol: our own layout passes every policy in every environment,
and a change that breaks a rule is caught on the real resources."""

from __future__ import annotations

import pytest

from policy_support import ENVIRONMENTS, ROOT, SECRET, config_file
from secrets_layout.analyzer_client import AnalyzerClient, Provider, Resource, secret

simulation = pytest.importorskip("secrets_layout.simulation")

pytestmark = pytest.mark.slow

SECRET_CONFIG = {key: "not-a-real-value" for key in
                 ("stripeApiKey", "crmOauthClient", "sendgridApiKey", "pagerdutyApiKey")}


def _plain(value):
    if isinstance(value, simulation.SecretValue):
        return secret(_plain(value.reveal()))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def recorded(env):
    """(Analyze inputs, AnalyzeStack outputs) of a simulated deployment of environments/<env>.yaml."""
    run = simulation.simulate(ROOT / "__main__.py", project="secrets-layout", stack=env, secret_config=SECRET_CONFIG)
    providers = {r.urn: r for r in run.resources if r.is_provider}
    inputs, outputs = [], []
    for r in run.resources:
        if r.type == "pulumi:pulumi:Stack":
            continue
        provider = None
        if r.provider:
            found = providers.get(r.provider.rsplit("::", 1)[0])
            if found is not None:
                provider = Provider(found.type, found.name, _plain(found.inputs), found.urn)
        common = dict(urn=r.urn, protect=bool(r.protect), parent=r.parent or "", dependencies=list(r.dependencies),
                      property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
                      provider=provider)
        inputs.append(Resource(r.type, r.name, _plain(r.inputs), **common))
        state = dict(_plain(r.inputs), **_plain(r.outputs))
        if r.id:
            state["id"] = r.id
        outputs.append(Resource(r.type, r.name, state, **common))
    return inputs, outputs


@pytest.fixture(scope="module")
def pack():
    with AnalyzerClient() as client:
        yield client


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_our_program_passes_the_pack(pack, env):
    if not (ROOT / "environments" / f"{env}.yaml").is_file():
        pytest.skip(f"environments/{env}.yaml is not there yet")
    inputs, outputs = recorded(env)
    assert any(r.type == SECRET for r in inputs)
    pack.configure(config_file=config_file(env))
    result = pack.analyze_many(inputs).extend(pack.analyze_stack(outputs))
    assert [(v.policy, v.urn, v.detail) for v in result.violations] == []
    assert result.not_applicable == []


def test_breaking_a_rule_on_the_real_resources_is_caught(pack):
    inputs, outputs = recorded("prod")
    secrets = [r for r in inputs if r.type == SECRET]
    secrets[0].protect = False
    secrets[0].properties = dict(secrets[0].properties, recoveryWindowInDays=0)
    pack.configure(config_file=config_file("prod"))
    result = pack.analyze_many(inputs).extend(pack.analyze_stack(outputs))
    assert sorted((v.policy, v.urn) for v in result.violations) == [
        ("secret-protected", secrets[0].urn), ("secret-recovery-window", secrets[0].urn)]
