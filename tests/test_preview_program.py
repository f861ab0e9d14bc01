"""Which program and which policy config a preview uses: the declaration's repository's, never this
package's own files for a declaration kept elsewhere (issue 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_support import ROOT, run_main
from secrets_layout.engine.programs import PACKAGED_PROGRAM, find_program
from secrets_layout.project_files import PROGRAM


def repository(folder: Path, *, program: bool = False, project: bool = False, config: bool = False) -> Path:
    """A user's git repository with environments/dev.yaml (and a Pulumi project, a policy config)."""
    (folder / ".git").mkdir(parents=True)
    (folder / "environments").mkdir()
    shutil.copy(ROOT / "environments" / "dev.yaml", folder / "environments" / "dev.yaml")
    if project:
        (folder / "Pulumi.yaml").write_text("name: platform\nruntime: python\n")
    if program:
        (folder / "__main__.py").write_text("import pathlib\npathlib.Path(__file__).with_name('ran').write_text('yes')\n")
    if config:
        (folder / "policies" / "config").mkdir(parents=True)
        shutil.copy(ROOT / "policies" / "config" / "dev.json", folder / "policies" / "config" / "dev.json")
    return folder / "environments" / "dev.yaml"


@pytest.mark.parametrize("project, program, expected", [
    (True, True, "the repository's"),
    (False, True, "packaged"),   # a __main__.py that is not a Pulumi project's program
    (True, False, "packaged"),
    (False, False, "packaged"),
])
def test_the_default_program_is_the_pulumi_projects_of_the_repository_else_the_packaged_one(
        tmp_path, project, program, expected):
    declaration = repository(tmp_path / "repo", project=project, program=program)
    found = find_program(declaration)
    assert found == (tmp_path / "repo" / "__main__.py" if expected == "the repository's" else PACKAGED_PROGRAM)


def test_a_project_above_the_repositorys_top_is_not_its_program(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: elsewhere\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    assert find_program(repository(tmp_path / "repo")) == PACKAGED_PROGRAM


def test_this_repositorys_program_only_runs_the_packaged_one_so_its_plan_is_evaluated():
    assert (ROOT / "__main__.py").read_text().count("from secrets_layout.program import main") == 1
    assert find_program(ROOT / "environments" / "prod.yaml") == PACKAGED_PROGRAM


@pytest.mark.parametrize("text, expected", [
    (PROGRAM, "packaged"),   # what `secrets-layout init` writes
    ("from secrets_layout.program import main\nmain()\n", "packaged"),
    ("# deploys the layout\nfrom secrets_layout.program import main\n\nmain()\n", "packaged"),
    ("from secrets_layout.program import main\nimport extra\nmain()\n", "the repository's"),
    ("from secrets_layout.program import main as run\nrun()\n", "the repository's"),
    ("from secrets_layout.program import main\nmain(1)\n", "the repository's"),
    ("from secrets_layout.program import main\n", "the repository's"),
    ("from secrets_layout.program import main\nmain(\n", "the repository's"),   # its error is the SDK run's to tell
    ("import secrets_layout.components\n", "the repository's"),
])
def test_a_program_that_only_runs_the_packaged_one_is_previewed_as_the_packaged_program(tmp_path, text, expected):
    """Its registrations are the packaged program's, so the preview evaluates the plan (no SDK);
    anything else the program does is the SDK simulation's to run."""
    declaration = repository(tmp_path / "repo", project=True)
    (tmp_path / "repo" / "__main__.py").write_text(text)
    found = find_program(declaration)
    assert found == (tmp_path / "repo" / "__main__.py" if expected == "the repository's" else PACKAGED_PROGRAM)


def test_a_declaration_kept_elsewhere_does_not_pick_this_repositorys_policy_config(tmp_path):
    """Before: `.../policies/config/dev.json` of this checkout (or of site-packages) was used."""
    declaration = repository(tmp_path / "repo")
    result = run_main("preview", str(declaration))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"secrets-layout preview: error: {declaration}: no policies/config/dev.json in the "
                             "declaration's repository; pass --policy-config FILE\n")


def test_a_program_that_is_not_there_is_a_usage_error(tmp_path):
    declaration = repository(tmp_path / "repo", config=True)
    result = run_main("preview", str(declaration), "--program", str(tmp_path / "nowhere.py"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"secrets-layout preview: error: {tmp_path / 'nowhere.py'}: ")


@pytest.mark.slow
def test_the_repositorys_program_is_the_one_previewed(tmp_path):
    """The repository's __main__.py runs (here one that creates nothing and leaves a mark)."""
    declaration = repository(tmp_path / "repo", project=True, program=True, config=True)
    result = run_main("preview", str(declaration), "--format", "json")
    assert (tmp_path / "repo" / "ran").read_text() == "yes"
    assert result.returncode == 0, result.stderr
    assert '"resources": []' in result.stdout


OWN_PROGRAM = """\
import pulumi
import pulumi_aws as aws

from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.declaration.loader import load_declaration

declaration = load_declaration(pulumi.Config("secrets-layout").require("declaration")).declaration
SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration))
audit_key = aws.kms.Key("audit-key", enable_key_rotation=True)
aws.secretsmanager.Secret("audit-token", name="Audit-Token", kms_key_id=audit_key.arn, recovery_window_in_days=30,
                          replicas=[aws.secretsmanager.SecretReplicaArgs(region="us-west-2", kms_key_id=audit_key.arn)])
"""
"""A user's program: the layout of its declaration, and a key and a secret of its own (lines 9 and 10)."""


@pytest.mark.slow
def test_a_resource_the_declaration_did_not_make_is_reported_at_the_program_line_and_costed(tmp_path):
    declaration = repository(tmp_path / "repo", config=True)
    program = tmp_path / "repo" / "infra.py"
    program.write_text(OWN_PROGRAM)
    result = run_main("preview", str(declaration), "--program", str(program), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    own = [violation for violation in document["violations"] if violation["urn"].endswith("::audit-token")]
    assert {(violation["policy"], violation["file"], violation["line"]) for violation in own} == {
        ("secret-name-convention", str(program), 10), ("secret-rotation-required", str(program), 10),
        ("secret-required-tags", str(program), 10),
        ("secret-replica-customer-managed-key", str(program), 10)}  # the replica named the us-east-1 key
    # The pack's own fix, in the program's terms, never the declaration's.
    assert all("In the declaration" not in violation["message"] for violation in own)
    assert any("Add an aws.secretsmanager.SecretRotation" in violation["message"] for violation in own)
    placed = {resource["name"]: (resource["file"], resource["line"]) for resource in document["resources"]}
    assert placed["audit-key"] == (str(program), 9) and placed["audit-token"] == (str(program), 10)
    items = {item["what"]: item["monthly_usd"] for item in document["cost"]["items"]}
    assert items[f"KMS key audit-key ({program}:9, not in the declaration)"] == 1.0
    assert items[f"secret audit-token ({program}:10, not in the declaration)"] == 0.8
    # The declaration's own resources stay at their YAML lines.
    assert placed["dev/payments/stripe-api-key-secret"][0] == str(declaration)
