"""`preview PATH --base REF` of a declaration the working tree no longer has (a pull request deletes
it), and `--sarif-output`: one preview run writing the SARIF beside the chosen format (issue 12 item 6).

A deleted environment is an empty stack at the head: every resource of the base is deleted, and the
engine refuses to delete a protected resource ("resource ... cannot be deleted because it is
protected", pkg/resource/deploy/step_generator.go in pulumi/pulumi), which changes.plan_changes marks
blocked.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from preview_support import PROD, git, repository_with

pytestmark = pytest.mark.slow

OUTPUT_SCHEMA = json.loads((ROOT / "secrets_layout" / "reports" / "preview.schema.json").read_text())


@pytest.fixture
def deleted_prod(tmp_path):
    """environments/prod.yaml committed on main, then deleted (its folder with it) on a branch."""
    repository, file = repository_with(tmp_path, "prod", PROD)
    git(repository, "checkout", "--quiet", "-b", "pr")
    git(repository, "rm", "--quiet", "environments/prod.yaml")
    git(repository, "commit", "--quiet", "-m", "retire prod")
    assert not file.parent.exists()
    return repository


def test_a_deleted_declaration_is_previewed_as_the_deletion_of_everything(deleted_prod):
    result = run_cli("preview", "environments/prod.yaml", "--base", "main", "--format", "json", cwd=deleted_prod)
    assert_no_traceback(result)
    # The protected keys and secrets cannot be deleted (the engine refuses), so the pull request fails.
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(OUTPUT_SCHEMA).validate(document)
    changes = {resource["change"] for resource in document["resources"]}
    assert changes == {"delete"}
    blocked = [resource["name"] for resource in document["resources"] if resource["blocked"]]
    protected = sorted(name for name in blocked if name.endswith("-key") or "/" in name)
    assert blocked and sorted(blocked) == protected  # the protected keys and secrets, nothing else
    assert document["summary"]["delete"] == len(document["resources"])
    assert document["summary"]["blocked"] == len(blocked)
    assert document["violations"] == []


def test_the_deletion_report_says_why_everything_is_deleted(deleted_prod):
    markdown = run_cli("preview", "environments/prod.yaml", "--base", "main", "--format", "markdown",
                       cwd=deleted_prod).stdout
    assert "> ⚠️ environments/prod.yaml does not exist in the working tree: every resource it had at main is deleted" \
        in markdown
    assert "blocked by protect" in markdown


@pytest.mark.parametrize(("arguments", "message"), [
    # without --base a missing file stays a usage error
    ((), "environments/prod.yaml: no such file"),
    (("--base", "HEAD~1"), "environments/prod.yaml: no such file, and environments/prod.yaml does not exist at HEAD~1"),
])
def test_a_declaration_missing_on_both_sides_is_a_usage_error(tmp_path, arguments, message):
    repository, _ = repository_with(tmp_path, "dev", PROD.replace("environment: prod", "environment: dev", 1))
    (repository / "x").write_text("x\n")
    git(repository, "add", "x")
    git(repository, "commit", "--quiet", "-m", "second")
    result = run_cli("preview", "environments/prod.yaml", *arguments, cwd=repository)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)


def test_one_run_writes_markdown_and_sarif(deleted_prod):
    result = run_cli("preview", "environments/prod.yaml", "--base", "main", "--format", "markdown",
                     "--output", "preview.md", "--sarif-output", "preview.sarif", cwd=deleted_prod)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr  # the protected deletions are blocked
    markdown = (deleted_prod / "preview.md").read_text()
    sarif = json.loads((deleted_prod / "preview.sarif").read_text())
    assert markdown.startswith("<!-- secrets-layout-preview -->")
    assert sarif["version"] == "2.1.0"
    blocked = markdown.count("| ⛔ ➖ **delete** (blocked) |")
    assert blocked and len(sarif["runs"][0]["results"]) == blocked  # one result per blocked deletion


def test_sarif_output_matches_a_separate_sarif_run(tmp_path):
    repository, _ = repository_with(tmp_path, "prod", PROD)
    both = run_cli("preview", "environments/prod.yaml", "--format", "json", "--output", "report.json",
                   "--sarif-output", "report.sarif", cwd=repository)
    alone = run_cli("preview", "environments/prod.yaml", "--format", "sarif", cwd=repository)
    assert both.returncode == alone.returncode
    assert json.loads((repository / "report.sarif").read_text()) == json.loads(alone.stdout)
    assert json.loads((repository / "report.json").read_text())["environment"] == "prod"


@pytest.mark.parametrize(("arguments", "message"), [
    (("--output", "same.txt", "--sarif-output", "same.txt"), "--output and --sarif-output are both same.txt"),
    (("--sarif-output", "environments/prod.yaml"), "environments/prod.yaml"),
])
def test_sarif_output_refuses_what_output_refuses(tmp_path, arguments, message):
    repository, file = repository_with(tmp_path, "prod", PROD)
    result = run_cli("preview", "environments/prod.yaml", *arguments, cwd=repository)
    assert result.returncode == 2 and message in result.stderr
    assert file.read_text() == PROD
    assert_no_traceback(result)
