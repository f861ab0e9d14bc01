"""The ForceNew table: its names are the installed SDK's input names, it covers every type the
example programs register, and aliases recorded by the simulation carry renames."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pulumi
import pytest
from pulumi import _types

from declaration_support import PROD_ALERTS

from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.changes import plan_changes
from secrets_layout.engine.force_new import ALL_INPUTS, FORCE_NEW, PROVIDER_FORCE_NEW
from secrets_layout.engine.simulation import simulate
from secrets_layout.preview import simulate_declaration

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "environments").glob("*.yaml"))


def args_class(type_: str):
    """The SDK's Args class of a type token: aws:secretsmanager/secret:Secret -> pulumi_aws.secretsmanager.SecretArgs."""
    package, module_path, name = type_.split(":")
    module = module_path.split("/")[0]
    base = importlib.import_module(f"pulumi_{package}")
    if module != "index":
        base = importlib.import_module(f"pulumi_{package}.{module}_" if module == "lambda" else f"pulumi_{package}.{module}")
    return getattr(base, f"{name}Args")


@pytest.mark.parametrize("type_", sorted(FORCE_NEW))
def test_every_listed_property_is_an_input_of_the_installed_sdk(type_):
    inputs = set(_types.input_type_py_to_pulumi_names(args_class(type_)).values())
    listed = FORCE_NEW[type_].properties
    assert listed is ALL_INPUTS or listed <= inputs, sorted(listed - inputs)


@pytest.mark.parametrize("type_", sorted(FORCE_NEW) + sorted(PROVIDER_FORCE_NEW))
def test_every_entry_cites_the_provider_source(type_):
    rule = FORCE_NEW.get(type_) or PROVIDER_FORCE_NEW[type_]
    assert rule.source.startswith(("https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/",
                                   "https://github.com/hashicorp/terraform-provider-random/",
                                   "https://github.com/pulumi/pulumi-aws/"))


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
