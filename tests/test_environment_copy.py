"""`init --from ENV` copies what the source declares, as it declares it (issue 21, section 3): `defaults:`
stays `defaults:`, a secret's own settings stay (`replicas: []` too), comments, blank lines, flow style and
quotes survive, the environment's name is replaced in names and descriptions, and the policy config
allows the copy's regions, so a fresh copy validates and previews without an advisory. An environment
folder is copied into a new folder, file by file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from cli_support import ROOT, assert_no_traceback, run_main
from folder_support import SETTINGS_FILE, split_declaration
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.environment_copy import read_source
from secrets_layout.project_files import Requirement
from secrets_layout.scaffold import ScaffoldInputError, scaffold_environment

SEEDS = ("dev", "prod", "shared-services", "staging")
REQUIREMENT = Requirement("secrets-layout[full]==0.2.0")

SOURCE = textwrap.dedent("""\
    # yaml-language-server: $schema=schema.json
    # Acme's production secrets.
    environment: prod
    security_account: "111111111111"
    organization_id: o-a1b2c3d4e5
    primary_region: us-east-1
    accounts:
      prod-app: "222222222222"      # the storefront
      prod-data: {id: "333333333333", deploy_role_arn: "arn:aws:iam::333333333333:role/Deployer"}
    kms:
      keys: {us-east-1: "arn:aws:kms:us-east-1:111111111111:key/5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"}

    # What every secret starts from.
    defaults:
      replicas: [us-west-2]
      rotation: {every_days: 30}    # monthly
      tags: {owner: platform-team, environment: prod}

    secrets:
      # The orders database.
      - name: prod/orders/db
        description: 'Orders database of prod (not pre-prod, not production)'
        kind: database
        value:
          generate: {key: password}
          template: {username: orders, engine: postgres, host: "prod-db.internal", port: 5432}
        rotation:
          managed: rds-postgresql-single-user
          bootstrap: database-reads-secret
          vpc: {subnet_ids: [subnet-0a1b2c3d], security_group_ids: [sg-0a1b2c3d]}
        readers:
          - {account: prod-app, roles: [OrdersRole]}
          - account: prod-data
            roles: [ReportingRole]

      - name: prod/payments/key
        kind: api-key
        value: {from_config: paymentsKey}
        rotation: {enabled: false, reason: no API}
        replicas: []                  # this one stays in one region
        readers: [{account: prod-data, roles: [PaymentsRole]}]
        import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/payments/key-AbCdEf"
        adopt:
          rotates: false

    # Non-sensitive settings.
    parameters:
      - {name: /prod/orders/log-level, value: info, description: Log level of prod}
""")

# The copy for qa with one account: every line of the source is there, as written, except what names
# the source's resources (organization, accounts, kms, the rotation's vpc, import_id/adopt, values).
COPY = textwrap.dedent("""\
    # yaml-language-server: $schema=schema.json
    # qa: what environments/prod.yaml declares (secrets-layout init --from prod), none of its values.
    # Replace every REPLACE-ME (template values, parameter values, rotation endpoints) before deploying.
    # Not copied: account IDs, KMS key ARNs, import_id/adopt, rotation VPCs, alerts.
    # Readers left out (no such account here; give --account NAME=ID): prod-data.
    # Set the from_config values: pulumi config set --secret --stack qa NAME (for paymentsKey).
    # Acme's production secrets.
    environment: qa
    security_account: "999999999999"
    primary_region: us-east-1
    accounts:
      qa-app: "888888888888"

    # What every secret starts from.
    defaults:
      replicas: [us-west-2]
      rotation: {every_days: 30}    # monthly
      tags: {owner: platform-team, environment: qa}
      protect: true

    secrets:
      # The orders database.
      - name: qa/orders/db
        description: 'Orders database of qa (not pre-prod, not production)'
        kind: database
        value:
          generate: {key: password}
          template: {username: REPLACE-ME, engine: postgres, host: "REPLACE-ME", port: 5432}
        rotation:
          managed: rds-postgresql-single-user
          bootstrap: database-reads-secret
        readers:
          - {account: qa-app, roles: [OrdersRole]}

      - name: qa/payments/key
        kind: api-key
        value: {from_config: paymentsKey}
        rotation: {enabled: false, reason: no API}
        replicas: []                  # this one stays in one region
        readers: []

    # Non-sensitive settings.
    parameters:
      - {name: /qa/orders/log-level, value: REPLACE-ME, description: Log level of qa}
""")


def environments_with(tmp_path: Path, **files: str) -> Path:
    """A repository whose environments/ holds `files` (name without .yaml -> text)."""
    (tmp_path / "environments").mkdir()
    for name, text in files.items():
        (tmp_path / "environments" / f"{name}.yaml").write_text(text)
    return tmp_path


def copy(root: Path, source: str = "prod", **options) -> list[str]:
    options = {"accounts": {"qa-app": "888888888888"}, **options}
    written = scaffold_environment("qa", root, source=read_source(root / "environments", source),
                                   requirement=REQUIREMENT, **options)
    return [path.relative_to(root).as_posix() for path in written]


def test_the_copy_is_the_source_as_written_with_the_new_environments_values(tmp_path):
    root = environments_with(tmp_path, prod=SOURCE)
    copy(root, security_account="999999999999")
    assert (root / "environments" / "qa.yaml").read_text() == COPY


def seed_copy(tmp_path: Path, seed: str, **options) -> tuple[dict, dict, str]:
    """The seed as written and its copy for qa (as YAML data), and the copy's text."""
    root = environments_with(tmp_path, **{seed: (ROOT / "environments" / f"{seed}.yaml").read_text()})
    copy(root, seed, **options)
    text = (root / "environments" / "qa.yaml").read_text()
    return yaml.safe_load((ROOT / "environments" / f"{seed}.yaml").read_text()), yaml.safe_load(text), text


def layout_lines(text: str) -> list[str]:
    """The lines that are comments or blank, but the schema modeline and init's own notes."""
    return [line for line in text.splitlines() if line.strip() in ("", "#") or line.lstrip().startswith("#")
            if not line.startswith(("# yaml-language-server:", "# qa:", "# Replace every", "# Not copied",
                                    "# Readers left out", "# Set the from_config"))]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_copy_keeps_what_each_secret_declares_and_its_defaults_unexpanded(tmp_path, seed):
    source, copied, text = seed_copy(tmp_path, seed)
    assert set(copied["defaults"]) == set(source["defaults"]) | {"protect"}
    assert len(copied["secrets"]) == len(source["secrets"])
    for new, old in zip(copied["secrets"], source["secrets"]):
        assert set(new) == set(old) - {"import_id", "adopt"}, old["name"]
        if "replicas" in old:
            assert new["replicas"] == old["replicas"], old["name"]
        assert new.get("rotation", {}).keys() == old.get("rotation", {}).keys() - {"vpc"}, old["name"]
    assert layout_lines(text) == layout_lines((ROOT / "environments" / f"{seed}.yaml").read_text())


def test_a_secrets_empty_replica_list_stays(tmp_path):
    source, copied, _ = seed_copy(tmp_path, "prod")
    [stripe] = [secret for secret in copied["secrets"] if secret["name"] == "qa/payments/stripe-api-key"]
    assert stripe["replicas"] == []
    declaration = load_declaration(tmp_path / "environments" / "qa.yaml").declaration
    assert {secret.name: secret.replicas for secret in declaration.secrets}["qa/payments/stripe-api-key"] == []


def one_secret(description: str) -> str:
    return SOURCE.split("secrets:\n")[0] + textwrap.dedent(f"""\
        secrets:
          - name: prod/orders/key
            description: "{description}"
            value: {{external: true}}
            rotation: {{enabled: false, reason: manual}}
        parameters:
          - {{name: /prod/orders/level, value: info, description: "{description}"}}
    """)


@pytest.mark.parametrize(("description", "expected"), [
    ("Orders key of prod", "Orders key of qa"),
    ("prod-db of prod, read by prod/orders", "qa-db of qa, read by qa/orders"),
    ("production and pre-prod keys", "production and pre-prod keys"),  # other words
    ("Prod key", "Prod key"),  # the name is lowercase: a capitalised word is prose
    ("the products' key", "the products' key"),
], ids=["word", "prefixes", "other words", "capitalised", "longer word"])
def test_the_environments_name_is_replaced_where_it_is_a_word(tmp_path, description, expected):
    root = environments_with(tmp_path, prod=one_secret(description))
    copy(root)
    declaration = load_declaration(root / "environments" / "qa.yaml").declaration
    assert [(secret.name, secret.description) for secret in declaration.secrets] == [("qa/orders/key", expected)]
    assert [(parameter.name, parameter.description) for parameter in declaration.parameters] == [
        ("/qa/orders/level", expected)]


# -- the policy config allows the copy's regions ----------------------------------------------------

@pytest.mark.parametrize(("seed", "options", "regions"), [
    ("dev", {}, ["us-east-1"]),
    ("staging", {}, ["us-east-1", "us-west-2"]),
    ("prod", {}, ["us-east-1", "us-west-2", "eu-west-1"]),
    ("shared-services", {}, ["us-east-1", "us-west-2"]),
    # The new primary region is no replica of itself.
    ("prod", {"region": "us-west-2"}, ["us-west-2", "eu-west-1"]),
    # --replica replaces the default replicas; a secret's own list stays its own.
    ("prod", {"replicas": ["ap-southeast-2"]}, ["us-east-1", "ap-southeast-2"]),
], ids=["dev", "staging", "prod", "shared-services", "new primary", "given replicas"])
def test_the_policy_config_allows_the_regions_of_the_copy(tmp_path, seed, options, regions):
    _, copied, _ = seed_copy(tmp_path, seed, **options)
    config = json.loads((tmp_path / "policies" / "config" / "qa.json").read_text())
    assert config["secret-region-allowed"]["allowedRegions"] == regions
    assert config["secret-replica-regions-allowed"]["allowedRegions"] == regions
    declaration = load_declaration(tmp_path / "environments" / "qa.yaml").declaration
    assert set(declaration.regions) | set(declaration.defaults.replicas or []) == set(regions)


def git_repository(root: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_fresh_copy_has_no_advisory_when_validated_and_previewed(tmp_path, seed):
    shutil.copy(ROOT / "environments" / f"{seed}.yaml", environments_with(tmp_path) / "environments")
    git_repository(tmp_path)
    result = run_main("init", "qa", "--from", seed, "--account", "qa-app=888888888888", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")

    validated = run_main("validate", "environments/qa.yaml", cwd=tmp_path)
    assert (validated.returncode, validated.stderr) == (0, "")
    assert validated.stdout.endswith("; checked against policies/config/qa.json)\n")
    assert len(validated.stdout.splitlines()) == 1, validated.stdout

    previewed = run_main("preview", "environments/qa.yaml", "--format", "json", cwd=tmp_path)
    report = json.loads(previewed.stdout)
    assert report["policy_config"] == "policies/config/qa.json"
    assert [(v["policy"], v["level"]) for v in report["violations"]] == []
    assert previewed.returncode == 0


# -- an environment folder ------------------------------------------------------------------------------

def folder_repository(tmp_path: Path) -> Path:
    split_declaration(ROOT / "environments" / "prod.yaml", tmp_path / "environments" / "prod")
    return tmp_path


def test_init_from_an_environment_folder_copies_it_into_a_new_folder(tmp_path):
    root = folder_repository(tmp_path)
    source = sorted(path.name for path in (root / "environments" / "prod").iterdir())
    written = copy(root)
    assert written[:len(source)] == [f"environments/qa/{name}" for name in source]
    assert written[len(source):len(source) + 4] == ["Pulumi.qa.yaml", "policies/config/qa.json",
                                                    "environments/schema.json", "environments/team-file.schema.json"]
    copied = load_declaration(root / "environments" / "qa").declaration
    original = load_declaration(ROOT / "environments" / "prod.yaml").declaration
    assert [secret.name for secret in copied.secrets] == sorted(
        "qa" + secret.name[len("prod"):] for secret in original.secrets)
    settings = (root / "environments" / "qa" / SETTINGS_FILE).read_text().splitlines()
    assert settings[:2] == ["# yaml-language-server: $schema=../schema.json",
                            "# qa: what environments/prod/ declares (secrets-layout init --from prod), none of its "
                            "values."]
    # Each team file is its source with the new names.
    for name in source[1:]:
        team = yaml.safe_load((root / "environments" / "qa" / name).read_text())
        assert all(secret["name"].startswith("qa/") for secret in team.get("secrets", []))
        assert all(parameter["name"].startswith("/qa/") for parameter in team.get("parameters", []))


@pytest.mark.slow
def test_a_copied_folder_validates_through_the_command_line(tmp_path):
    root = folder_repository(tmp_path)
    git_repository(root)
    result = run_main("init", "qa", "--from", "prod", "--account", "qa-app=888888888888", cwd=root)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("wrote environments/qa/_environment.yaml\n")
    validated = run_main("validate", "environments/qa", cwd=root)
    assert (validated.returncode, validated.stderr) == (0, "")
    assert validated.stdout == "environments/qa: valid (5 secrets, 3 parameters; checked against policies/config/qa.json)\n"


@pytest.mark.parametrize(("existing", "message"), [
    ("environments/qa.yaml", "environments/qa.yaml declares the environment qa already; a folder environments/qa/ "
                             "beside it would declare it twice: choose another name; nothing was written"),
    ("environments/qa/orders.yaml", "environments/qa/ exists; the copy of an environment folder is a new folder: "
                                    "choose another name, or move the folder away; nothing was written"),
], ids=["file", "folder"])
def test_a_folder_is_copied_into_no_existing_declaration(tmp_path, existing, message):
    root = folder_repository(tmp_path)
    (root / existing).parent.mkdir(parents=True, exist_ok=True)
    (root / existing).write_text("# mine\n")
    before = sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))
    for force in (False, True):
        with pytest.raises(ScaffoldInputError) as raised:
            copy(root, force=force)
        assert str(raised.value) == message
    assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*")) == before


def test_a_file_source_is_still_refused_beside_a_folder_of_the_new_name(tmp_path):
    root = environments_with(tmp_path, prod=SOURCE)
    (root / "environments" / "qa").mkdir()
    with pytest.raises(ScaffoldInputError) as raised:
        copy(root)
    assert str(raised.value).startswith("environments/qa/ declares the environment qa already")


@pytest.mark.parametrize(("files", "message"), [
    ({}, "secrets-layout init: error: environments/prod.yaml: no such file"),
    ({"prod": "environment: prod\n"},
     "secrets-layout init: error: --from prod: environments/prod.yaml is not a valid declaration; fix it first:"),
], ids=["missing", "invalid"])
def test_init_from_a_source_that_cannot_be_copied_says_why(tmp_path, files, message):
    root = environments_with(tmp_path, **files)
    result = run_main("init", "qa", "--from", "prod", cwd=root)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message)
    assert_no_traceback(result)
    assert not (root / "environments" / "qa.yaml").exists()


@pytest.mark.slow
@pytest.mark.parametrize("arguments", [("validate", "environments/prod.yaml"),
                                       ("consumer-policy", "prod/payments/stripe-api-key", "--account", "prod-app")])
def test_only_init_from_loads_the_round_trip_yaml_library(arguments):
    """ruamel.yaml is a dependency of the plain install (init is part of it), but what the pre-commit
    hook runs, validate, and consumer-policy do not pay for loading it."""
    code = ("import sys; from secrets_layout.cli import main; code = main(sys.argv[1:]); "
            "print('ruamel' in ' '.join(sys.modules), file=sys.stderr); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, *arguments], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "False")


def readme_block(first_command: str) -> list[tuple[str, str]]:
    """A console block of README.md as (command, output) pairs, from the one starting with `first_command`."""
    text = (ROOT / "README.md").read_text()
    indent = re.search(rf"^( *)\$ {re.escape(first_command)}$", text, re.MULTILINE).group(1)
    lines = [line.removeprefix(indent) for line in text.splitlines()]
    start = lines.index(f"$ {first_command}")
    end = lines.index("```", start)
    steps: list[tuple[str, str]] = []
    for line in lines[start:end]:
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        else:
            command, output = steps[-1]
            steps[-1] = (command, output + line + "\n")
    return steps


@pytest.mark.slow
def test_the_readmes_init_from_example_is_what_init_prints(tmp_path):
    """README.md's `init staging2 --from prod`, replayed in a repository like this one (its project and
    pack, so init writes the environment's files only)."""
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt", ".gitignore", "policies/PulumiPolicy.yaml",
                 "environments/prod.yaml", "environments/schema.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    git_repository(tmp_path)
    for command, output in readme_block("secrets-layout init staging2 --from prod --account staging2-app=555555555555"):
        words = command.split()
        if words[0] == "head":
            text = (tmp_path / words[2]).read_text()
            printed = "".join(text.splitlines(keepends=True)[:int(words[1].removeprefix("-"))])
        else:
            assert words[0] == "secrets-layout"
            result = run_main(*words[1:], cwd=tmp_path)
            assert (result.returncode, result.stderr) == (0, ""), command
            printed = result.stdout
        assert printed == output, command


def test_a_source_the_round_trip_library_refuses_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    """The loader and ruamel.yaml are two parsers; where they disagree, init says so and writes nothing."""
    from ruamel.yaml.error import YAMLError

    from secrets_layout import yaml_roundtrip

    def refuse(text):
        raise YAMLError("while scanning a simple key\nmore context")

    root = environments_with(tmp_path, prod=SOURCE)
    monkeypatch.setattr(yaml_roundtrip, "load", refuse)
    with pytest.raises(ScaffoldInputError) as raised:
        copy(root)
    assert str(raised.value) == ("--from prod: prod.yaml cannot be copied as written (while scanning a simple key); "
                                 "copy it by hand")
    assert sorted(path.name for path in (root / "environments").iterdir()) == ["prod.yaml"]
