"""Pulumi.yaml as a `pulumi new` template (issue 12 item 2).

What `pulumi new <repository>` does with it, from Pulumi's documentation: it copies the repository,
asks for every key of `template.config` showing its description and offering its default, and
stores the answers in Pulumi.<stack>.yaml under `config:` (project file reference, "template
options": https://www.pulumi.com/docs/iac/concepts/projects/project-file/; "Creating templates":
https://www.pulumi.com/docs/iac/guides/building-extending/creating-templates/). A project `config:`
key with a type and no default must be set in every stack (pulumi/pulumi
sdk/go/common/workspace/project_test.go, TestStackConfigErrorsWhenMissingTwoStackValueForConfigTypeWithNoDefault:
"Stack 'dev' is missing configuration value"); with a default, the engine applies it.

The flow this tests: `pulumi new` -> Pulumi.<stack>.yaml with the answers -> `secrets-layout init
--stack <stack>` writes environments/<environment>.yaml and policies/config/<environment>.json from
them -> the program (run on the SDK's mock engine) deploys that declaration. The Pulumi CLI itself is
not run here (no network, no backend): the stack file is written the way `pulumi new` writes it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pulumi
import pytest
import yaml

from cli_support import ROOT, assert_no_traceback, run_cli
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.simulation import simulate
from secrets_layout.scaffold import TEMPLATE_KEYS

PROGRAM = ROOT / "__main__.py"
PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
TEMPLATE = PROJECT_FILE["template"]["config"]


@contextlib.contextmanager
def recorded_config_reads():
    """Every config key the program asks for, through any pulumi.Config getter (they all call _get)."""
    keys: list[str] = []
    original = pulumi.Config._get

    def recording(self, key, *arguments, **keywords):
        keys.append(self.full_key(key))
        return original(self, key, *arguments, **keywords)

    pulumi.Config._get = recording
    try:
        yield keys
    finally:
        pulumi.Config._get = original


def project_defaults() -> dict[str, str]:
    """What the engine applies from Pulumi.yaml's project config (its defaults)."""
    return {key: spec["default"] for key, spec in PROJECT_FILE.get("config", {}).items() if "default" in spec}


# What `pulumi new` copies of this repository that `init` would write into a repository without it (the
# project, the policy pack, .gitignore): with them, init adds only the environment's files.
PROJECT_OF_THE_TEMPLATE = ["Pulumi.yaml", "__main__.py", "requirements.txt", "policies/PulumiPolicy.yaml",
                           ".gitignore"]


def stack_file_of_pulumi_new(answers: dict[str, str]) -> str:
    return yaml.safe_dump({"config": answers}, sort_keys=True)


def run_stack(project: Path, stack: str) -> tuple[object, list[str]]:
    """The program on the mock engine with the project defaults and Pulumi.<stack>.yaml's config."""
    config = {**project_defaults(), **yaml.safe_load((project / f"Pulumi.{stack}.yaml").read_text())["config"]}
    declaration = load_declaration(project / "environments" / f"{config['secrets-layout:environment']}.yaml")
    with recorded_config_reads() as keys:
        run = simulate(PROGRAM, project="secrets-layout", stack=stack, config=config, root_directory=project,
                       account_id=declaration.declaration.security_account)
    return run, keys


def test_the_template_asks_for_environment_account_region_and_organization():
    assert set(TEMPLATE) == set(TEMPLATE_KEYS.values()) == {
        "secrets-layout:environment", "secrets-layout:securityAccount", "aws:region",
        "secrets-layout:organizationId"}
    for key, question in TEMPLATE.items():
        assert len(question["description"]) > 20, key
        assert isinstance(question["default"], str) and question["default"], key  # pulumi new offers it
    assert PROJECT_FILE["template"]["description"]


def test_every_project_config_key_has_a_default_so_a_new_stack_needs_none():
    for key, spec in PROJECT_FILE["config"].items():
        assert "default" in spec and spec["type"] == "string", key


@pytest.mark.slow
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_project_file_names_every_config_key_the_program_reads(environment):
    """Run the real program over a seed declaration and record what it reads; a from_config name is
    the declaration's own (set per stack with `pulumi config set --secret`), not the project's."""
    loaded = load_declaration(ROOT / "environments" / f"{environment}.yaml")
    from_config = {f"secrets-layout:{secret.value.from_config}" for secret in loaded.declaration.secrets
                   if secret.value.from_config}
    with recorded_config_reads() as keys:
        simulate(PROGRAM, project="secrets-layout", stack=environment,
                 secret_config={name.split(":", 1)[1]: "placeholder" for name in from_config},
                 account_id=loaded.declaration.security_account)
    read = set(keys) - from_config
    assert "secrets-layout:declaration" in read and "secrets-layout:environment" in read
    assert read <= set(TEMPLATE) | set(PROJECT_FILE["config"]), read - set(TEMPLATE) - set(PROJECT_FILE["config"])


@pytest.mark.slow
@pytest.mark.parametrize(("answers", "expected"), [
    ({}, {"environment": "dev", "security_account": "111111111111", "primary_region": "us-east-1",
          "organization_id": None}),
    ({"secrets-layout:environment": "qa", "secrets-layout:securityAccount": "123456789012",
      "aws:region": "eu-west-1", "secrets-layout:organizationId": "o-a1b2c3d4e5"},
     {"environment": "qa", "security_account": "123456789012", "primary_region": "eu-west-1",
      "organization_id": "o-a1b2c3d4e5"}),
], ids=["the defaults", "own answers"])
def test_a_stack_made_by_pulumi_new_leads_to_a_deployable_first_declaration(tmp_path, answers, expected):
    stack = "dev"
    for name in PROJECT_OF_THE_TEMPLATE:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    given = {key: question["default"] for key, question in TEMPLATE.items()} | answers
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(stack_file_of_pulumi_new(given))

    result = run_cli("init", "--stack", stack, cwd=tmp_path)
    assert_no_traceback(result)
    environment = expected["environment"]
    assert (result.returncode, result.stdout) == (0, f"wrote environments/{environment}.yaml\n"
                                                     f"wrote policies/config/{environment}.json\n"
                                                     "wrote environments/schema.json\n")
    assert stack_file.read_text() == stack_file_of_pulumi_new(given)  # the stack's file is kept as it is
    declaration = load_declaration(tmp_path / "environments" / f"{environment}.yaml").declaration
    assert {name: getattr(declaration, name) for name in expected} == expected
    policy = json.loads((tmp_path / "policies" / "config" / f"{environment}.json").read_text())
    assert policy["secret-name-convention"]["environment"] == environment

    run, keys = run_stack(tmp_path, stack)
    assert run.outputs["environment"] == environment
    assert set(keys) - set(TEMPLATE) - set(PROJECT_FILE["config"]) == set()


@pytest.mark.slow
def test_before_init_the_program_says_what_to_run(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_file_of_pulumi_new(
        {key: question["default"] for key, question in TEMPLATE.items()}))
    config = {**project_defaults(), **yaml.safe_load((tmp_path / "Pulumi.dev.yaml").read_text())["config"]}
    with pytest.raises(pulumi.RunError) as raised:
        simulate(PROGRAM, project="secrets-layout", stack="dev", config=config, root_directory=tmp_path)
    assert str(raised.value) == ("environments/dev.yaml: cannot read the declaration: no such file; "
                                 "write it with `secrets-layout init --stack dev`")


@pytest.mark.slow
@pytest.mark.parametrize(("stack_config", "arguments", "message"), [
    (None, ("init", "--stack", "dev"), "Pulumi.dev.yaml: no such stack file; create the stack with `pulumi new`"),
    ({"secrets-layout:environment": "dev"}, ("init", "qa", "--stack", "dev"),
     "ENV qa disagrees with Pulumi.dev.yaml (dev)"),
    ({"secrets-layout:securityAccount": "123456789012"}, ("init", "--stack", "dev", "--security-account", "210987654321"),
     "--security-account 210987654321 disagrees with Pulumi.dev.yaml (123456789012)"),
    ({"secrets-layout:securityAccount": {"secure": "AAAA"}}, ("init", "--stack", "dev"),
     "Pulumi.dev.yaml: secrets-layout:securityAccount must be a plain value"),
    ({"secrets-layout:securityAccount": "12345"}, ("init", "--stack", "dev"),
     "security account '12345' is not an AWS account ID"),
    ({"secrets-layout:organizationId": "org-1"}, ("init", "--stack", "dev"), "organization ID 'org-1' is not valid"),
    ({}, ("init",), "name the new environment (init ENV) or the stack `pulumi new` made (init --stack STACK)"),
])
def test_init_from_a_stack_refuses_what_it_cannot_use(tmp_path, stack_config, arguments, message):
    if stack_config is not None:
        (tmp_path / "Pulumi.dev.yaml").write_text(stack_file_of_pulumi_new(stack_config))
    result = run_cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (tmp_path / "environments").exists()
    assert_no_traceback(result)
