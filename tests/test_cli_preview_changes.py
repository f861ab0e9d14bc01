"""`secrets-layout preview --base` through the installed entry point: the engine's step for each
resource (same, update, replace, import, create, delete), protect changes and blocked steps, and
the inputs and options `--format json` carries."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from preview_support import ADOPTED_PARTNER_TOKEN, DEV, PROD, git, repository_with

pytestmark = pytest.mark.slow

OUTPUT_SCHEMA = json.loads((ROOT / "secrets_layout" / "reports" / "preview.schema.json").read_text())
EXAMPLES = sorted(path.name for path in (ROOT / "environments").glob("*.yaml"))


def preview(repository: Path, file: str, *arguments: str, output_format: str = "json"):
    result = run_cli("preview", file, "--base", "HEAD~1", "--policy-config",
                     str(ROOT / "policies" / "config" / "dev.json"), *arguments, "--format", output_format,
                     cwd=repository)
    assert_no_traceback(result)
    if output_format != "json":
        return result.stdout
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(OUTPUT_SCHEMA).validate(document)
    return document


def changed(repository: Path, file: Path, text: str, **kwargs):
    file.write_text(text)
    git(repository, "commit", "--quiet", "-am", "change")
    return preview(repository, f"environments/{file.name}", **kwargs)


def by_name(document) -> dict:
    return {resource["name"]: resource for resource in document["resources"]}


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_unchanged_declaration_is_all_same(tmp_path, example):
    """The bundled rotator's archive used to be compared by object identity: a phantom
    `~ update ... Function: code` on every preview of an environment that uses it."""
    text = (ROOT / "environments" / example).read_text()
    repository, _ = repository_with(tmp_path, example.removesuffix(".yaml"), text)
    result = run_cli("preview", f"environments/{example}", "--base", "HEAD", "--format", "json", cwd=repository)
    assert_no_traceback(result)
    document = json.loads(result.stdout)
    assert {resource["change"] for resource in document["resources"]} == {"same"}
    assert document["summary"]["same"] == document["summary"]["resources"] > 0


def test_unprotecting_a_secret_shows_a_protect_change(tmp_path):
    protected = DEV.replace("  - name: dev/payments/stripe-api-key\n", "  - name: dev/payments/stripe-api-key\n    protect: true\n")
    repository, file = repository_with(tmp_path, "dev", protected)
    document = changed(repository, file, DEV)
    secret = by_name(document)["dev/payments/stripe-api-key-secret"]
    assert (secret["change"], secret["changed_options"]) == ("same", [{"option": "protect", "before": True, "after": False}])
    assert secret["note"] == "unprotected: after this deployment the engine lets it be deleted or replaced"
    assert secret["options"]["protect"] is False
    text = preview(repository, "environments/dev.yaml", output_format="text")
    assert "protect: true -> false" in text


def test_a_secret_with_an_import_id_is_imported(tmp_path):
    repository, file = repository_with(tmp_path, "dev", DEV)
    document = changed(repository, file, DEV.replace("\nparameters:", ADOPTED_PARTNER_TOKEN + "\nparameters:"))
    secret = by_name(document)["dev/legacy/partner-token-secret"]
    assert secret["change"] == "import"
    assert secret["options"]["import_id"] == "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/legacy/partner-token-AbCdEf"
    assert document["summary"]["import"] == 1
    assert "= import" in preview(repository, "environments/dev.yaml", output_format="text")


def test_renaming_a_secret_deletes_the_old_one_and_creates_the_new_one(tmp_path):
    repository, file = repository_with(tmp_path, "dev", DEV)
    document = changed(repository, file, DEV.replace("dev/tools/feature-flag-sdk-key", "dev/tools/flag-sdk-key"))
    resources = by_name(document)
    assert resources["dev/tools/feature-flag-sdk-key-secret"]["change"] == "delete"
    assert resources["dev/tools/flag-sdk-key-secret"]["change"] == "create"


@pytest.mark.parametrize(("protect", "blocked"), [("false", False), ("true", True)])
def test_moving_the_primary_region_replaces_every_secret(tmp_path, protect, blocked):
    """A new region means another provider whose DiffConfig asks for a replacement (pulumi-aws #4000)."""
    base = DEV.replace("  protect: false", f"  protect: {protect}")
    repository, file = repository_with(tmp_path, "dev", base)
    document = changed(repository, file, base.replace("primary_region: us-east-1", "primary_region: us-west-2"))
    secret = by_name(document)["dev/payments/stripe-api-key-secret"]
    assert (secret["change"], secret["replace_properties"], secret["blocked"]) == ("replace", ["provider"], blocked)
    assert "REPLACES THE SECRET: a new secret with a new ARN is created; the old one is recoverable until" in secret["note"]
    # Only the protected resources of a replaced set are blocked: the engine needs old and new protected.
    # With protect: true the environment's keys are protected too (defaults.protect), and the old
    # region's key is deleted, which the engine refuses as well.
    protected = [resource for resource in document["resources"]
                 if resource["change"] in ("replace", "delete") and resource["options"]["protect"]]
    assert document["summary"]["replace"] >= 3 and document["summary"]["blocked"] == len(protected)
    assert bool(protected) is blocked
    text = preview(repository, "environments/dev.yaml", output_format="text")
    assert ("+- replace BLOCKED" in text) is blocked and "provider (forces replacement)" in text
    markdown = preview(repository, "environments/dev.yaml", output_format="markdown")
    assert "♻️ **replace**" in markdown and ("blocked by protect" in markdown) is blocked
    sarif = json.loads(preview(repository, "environments/dev.yaml", output_format="sarif"))
    rules = {result["ruleId"] for result in sarif["runs"][0]["results"]}
    # A blocked secret replacement is reported once, as blocked.
    assert rules == ({"change-blocked-by-protect"} if blocked else {"secret-replaced"})


def test_json_carries_masked_inputs_and_the_options_that_matter():
    result = run_cli("preview", "environments/prod.yaml", "--format", "json")
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(OUTPUT_SCHEMA).validate(document)
    resources = by_name(document)
    imported = resources["prod/legacy/partner-token-secret"]
    assert imported["change"] == "import"
    assert imported["options"]["import_id"].startswith("arn:aws:secretsmanager:us-east-1:111111111111:secret:")
    assert imported["options"]["protect"] is True and imported["inputs"]["name"] == "prod/legacy/partner-token"
    versions = [resource for resource in document["resources"]
                if resource["type"] == "aws:secretsmanager/secretVersion:SecretVersion"]
    assert versions and all(version["inputs"]["secretString"] == "[secret]" for version in versions)
    function = resources["prod-rotation-api-key-rotator-function"]
    assert set(function["inputs"]["code"]["archive"]) == {"sha256", "assets"}
    policy = next(resource for resource in document["resources"] if resource["type"] == "aws:secretsmanager/secretPolicy:SecretPolicy")
    assert json.loads(policy["inputs"]["policy"])["Statement"]


def _layout_program(declaration_file: Path, code_directory: Path):
    def program() -> None:
        from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
        from secrets_layout.declaration.loader import load_declaration

        declaration = load_declaration(declaration_file).declaration
        SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration,
                                                                  rotation_code_directory=code_directory))
    return program


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(None, ("same", []), id="same-code-in-another-folder"),
    pytest.param("# a change to the rotator\n", ("update", ["code"]), id="code-changed"),
])
def test_the_rotation_function_changes_only_when_its_code_does(tmp_path, edit, expected):
    """The real components, simulated twice with the rotator's code in two folders."""
    from secrets_layout.components.rotation import ROTATION_CODE_DIRECTORY
    from secrets_layout.engine.changes import plan_changes
    from secrets_layout.engine.simulation import simulate

    before_code, after_code = tmp_path / "before", tmp_path / "after"
    shutil.copytree(ROTATION_CODE_DIRECTORY, before_code)
    shutil.copytree(ROTATION_CODE_DIRECTORY, after_code)
    if edit:
        handler = next(path for path in sorted(after_code.rglob("*.py")) if "test" not in path.name)
        handler.write_text(handler.read_text() + edit)
    runs = [simulate(_layout_program(ROOT / "environments" / "dev.yaml", code), project="secrets-layout", stack="dev",
                     secret_config={"stripeApiKey": "placeholder"}, root_directory=ROOT)
            for code in (before_code, after_code)]
    planned = plan_changes(runs[1].resources, runs[0].resources, date(2026, 11, 25))
    function = next(change for change in planned if change.type == "aws:lambda/function:Function")
    assert (function.change, list(function.changed_properties)) == expected
    assert [change.name for change in planned if change.change != "same" and change is not function] == []


@pytest.mark.parametrize(("protect", "code"), [("false", 0), ("true", 1)])
def test_a_blocked_step_fails_the_preview_as_pulumi_preview_does(tmp_path, protect, code):
    """The engine fails the whole preview on a step protect forbids (pulumi/pulumi
    pkg/resource/deploy/step_generator.go: "unable to replace resource ... as it is currently marked
    for protection"; pkg/resource/deploy/step.go deleteProtectedError), so the pull request must fail
    here too, whatever the pack says."""
    base = DEV.replace("  protect: false", f"  protect: {protect}")
    repository, file = repository_with(tmp_path, "dev", base)
    file.write_text(base.replace("primary_region: us-east-1", "primary_region: us-west-2"))
    git(repository, "commit", "--quiet", "-am", "move the region")
    result = run_cli("preview", "environments/dev.yaml", "--base", "HEAD~1", "--policy-config",
                     str(ROOT / "policies" / "config" / "dev.json"), "--format", "json", cwd=repository)
    assert_no_traceback(result)
    document = json.loads(result.stdout)
    assert document["summary"]["mandatory"] == 0
    assert (result.returncode, document["summary"]["blocked"] > 0) == (code, bool(code))
