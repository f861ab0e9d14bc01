"""The real program (__main__.py, components, environments/*.yaml) on the SDK mock engine, driven
through the pack over the analyzer protocol: our own layout passes every policy in every environment,
and a change that breaks a rule is caught on the real resources."""

from __future__ import annotations

import pytest

from policy_support import ENVIRONMENTS, ROOT, SECRET, config_file
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.programs import simulate_declaration
from secrets_layout.engine.policy_check import analyzer_resources

pytestmark = pytest.mark.slow


def recorded(env):
    """(Analyze inputs, AnalyzeStack states) of a simulated deployment of environments/<env>.yaml."""
    return analyzer_resources(simulate_declaration(load_declaration(ROOT / "environments" / f"{env}.yaml")))


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
