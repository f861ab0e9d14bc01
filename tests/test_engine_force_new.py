"""The ForceNew table: every input of every listed type is classified (the installed SDK's Args class is
the list of inputs), every rule cites the provider source's line at a pinned commit, it covers every type
the example programs register, and aliases recorded by the simulation carry renames."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pulumi
import pytest

from declaration_support import PROD_ALERTS

from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine import force_new
from secrets_layout.engine.changes import plan_changes
from secrets_layout.engine.force_new import FORCE_NEW, PROVIDER_FORCE_NEW, REGION, ForceNew, replacing_properties
from secrets_layout.engine.provider_schema import resource_schema
from secrets_layout.engine.simulation import simulate
from secrets_layout.engine.programs import simulate_declaration

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "environments").glob("*.yaml"))
PINNED_LINE = re.compile(r"https://github\.com/hashicorp/terraform-provider-(aws|random)/blob/[0-9a-f]{40}/[\w/.]+\.go#L\d+")
UNVERIFIED = {("aws:secretsmanager/secret:Secret", "type")}
"""Rules the cited provider versions do not have: taken from the installed SDK's documentation."""


def unclassified(type_: str, rule: ForceNew) -> tuple[list[str], list[str]]:
    """(inputs of the installed SDK the rule does not classify, names the rule classifies that are no input)."""
    inputs = resource_schema(type_).inputs
    return sorted(inputs - rule.classified), sorted(rule.classified - inputs)


@pytest.mark.parametrize("type_", sorted(FORCE_NEW))
def test_every_input_of_the_installed_sdk_is_classified_and_nothing_else(type_):
    assert unclassified(type_, FORCE_NEW[type_]) == ([], [])


def test_an_input_the_table_does_not_classify_is_found():
    """What the test above catches when an SDK upgrade adds an input (or a rule names a removed one)."""
    secret = FORCE_NEW["aws:secretsmanager/secret:Secret"]
    without_policy = ForceNew(secret.replaces, secret.updates - {"policy"}, regional=True)
    with_stale = ForceNew({**secret.replaces, "rotationRules": REGION}, secret.updates, regional=True)
    assert unclassified("aws:secretsmanager/secret:Secret", without_policy) == (["policy"], [])
    assert unclassified("aws:secretsmanager/secret:Secret", with_stale) == ([], ["rotationRules"])


@pytest.mark.parametrize("type_", sorted(FORCE_NEW))
def test_every_rule_cites_the_providers_line_at_a_pinned_commit(type_):
    rule = FORCE_NEW[type_]
    citations = {**rule.replaces, **{name: conditional.citation for name, conditional in rule.conditional.items()}}
    for name, citation in citations.items():
        if (type_, name) in UNVERIFIED:
            assert not citation.verified and citation.note, name
        else:
            assert citation.verified and PINNED_LINE.fullmatch(citation.url), (name, citation.url)
    assert PINNED_LINE.fullmatch(REGION.url)


def test_the_provider_rule_cites_pulumi_aws():
    assert PROVIDER_FORCE_NEW["pulumi:providers:aws"].replaces["region"].url.startswith("https://github.com/pulumi/pulumi-aws/")


@pytest.mark.parametrize(("type_", "name", "old", "new", "replaces"), [
    pytest.param("aws:lambda/function:Function", "durableConfig", None, {"executionTimeout": 60}, True, id="added"),
    pytest.param("aws:lambda/function:Function", "durableConfig", {"executionTimeout": 60}, None, True, id="removed"),
    pytest.param("aws:lambda/function:Function", "durableConfig", {"executionTimeout": 60}, {"executionTimeout": 90},
                 False, id="changed-in-place"),
    pytest.param("aws:ssm/parameter:Parameter", "tier", "Advanced", "Standard", True, id="tier-downgrade"),
    pytest.param("aws:ssm/parameter:Parameter", "tier", "Standard", "Advanced", False, id="tier-upgrade"),
    pytest.param("aws:secretsmanager/secret:Secret", "region", None, "eu-west-1", True, id="region"),
    pytest.param("aws:iam/role:Role", "description", "a", "b", False, id="update"),
])
def test_conditional_and_regional_rules(type_, name, old, new, replaces):
    assert bool(replacing_properties(type_, (name,), (), {name: old}, {name: new})) is replaces
    assert force_new.is_regional(type_) is ("region" in resource_schema(type_).inputs)


@pytest.fixture(scope="module")
def registered_types(tmp_path_factory):
    with_alerts = tmp_path_factory.mktemp("alerts") / "prod.yaml"
    with_alerts.write_text((ROOT / "environments" / "prod.yaml").read_text(encoding="utf-8") + PROD_ALERTS,
                           encoding="utf-8")
    found = set()
    for example in [*EXAMPLES, with_alerts]:
        simulation = simulate_declaration(load_declaration(example))
        found |= {resource.type for resource in simulation.resources if resource.custom}
    return found


def test_the_table_covers_every_type_the_example_programs_register(registered_types):
    assert len(EXAMPLES) >= 4
    assert registered_types - set(FORCE_NEW) - set(PROVIDER_FORCE_NEW) == set()


def _program(name: str, aliases=None):
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Holder", name, None,
                                          pulumi.ResourceOptions(aliases=aliases))
        pulumi.CustomResource("test:index:Thing", f"{name}-thing", {"size": 1}, pulumi.ResourceOptions(parent=parent))
    return program


def test_the_simulation_records_aliases_as_urns():
    run = simulate(_program("new", aliases=[pulumi.Alias(name="old"),
                                            "urn:pulumi:dev::p::test:index:Holder::older"]), project="p", stack="dev")
    holder = run.get("new", "test:index:Holder")
    assert holder.aliases == ("urn:pulumi:dev::p::test:index:Holder::old", "urn:pulumi:dev::p::test:index:Holder::older")


@pytest.mark.parametrize(("aliases", "expected"), [
    pytest.param(None, [("new", "create"), ("new-thing", "create"), ("old", "delete"), ("old-thing", "delete")],
                 id="rename-without-alias"),
    pytest.param([pulumi.Alias(name="old")], [("new", "same"), ("new-thing", "same")], id="rename-with-alias"),
])
def test_a_renamed_component_and_its_child_follow_an_alias(aliases, expected):
    before = simulate(_program("old"), project="p", stack="dev")
    after = simulate(_program("new", aliases=aliases), project="p", stack="dev")
    planned = plan_changes(after.resources, before.resources, date(2026, 11, 25))
    assert [(change.name, change.change) for change in planned] == expected
