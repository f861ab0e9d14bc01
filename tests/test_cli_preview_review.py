"""`secrets-layout preview --base` as a reviewer reads it (issue 21, section 4), through the installed
entry point on a git repository: policy statements that change, who can read each secret before and
after with every widening first, no success mark on a failing report, a removed safeguard called out,
a text report that fits the terminal and shows what changes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from docs_scenarios import REPORTING_AND_REPLICA
from preview_support import DEV, PROD, git, repository_with

pytestmark = pytest.mark.slow

OUTPUT_SCHEMA = json.loads((ROOT / "secrets_layout" / "reports" / "preview.schema.json").read_text())
DEV_CONFIG = str(ROOT / "policies" / "config" / "dev.json")
A_ROLE_MORE = DEV.replace("readers: [{account: dev-app, roles: [PaymentsRole]}]",
                          "readers: [{account: dev-app, roles: [PaymentsRole, ReportingRole]}]")
NO_ORGANIZATION = PROD.replace("organization_id: o-a1b2c3d4e5\n", "")


def committed(repository: Path, file: Path, text: str) -> None:
    file.write_text(text)
    git(repository, "commit", "--quiet", "-am", "change")


def preview(repository: Path, file: str, *arguments: str, output_format: str = "json", config: str | None = DEV_CONFIG):
    options = ["--policy-config", config] if config else []
    result = run_cli("preview", file, "--base", "HEAD~1", *options, *arguments, "--format", output_format,
                     cwd=repository)
    assert_no_traceback(result)
    if output_format == "json":
        document = json.loads(result.stdout)
        jsonschema.Draft202012Validator(OUTPUT_SCHEMA).validate(document)
        return result.returncode, document
    return result.returncode, result.stdout


@pytest.fixture(scope="module")
def a_role_more(tmp_path_factory) -> Path:
    """dev with ReportingRole added to the readers of dev/payments/stripe-api-key, committed over dev."""
    repository, file = repository_with(tmp_path_factory.mktemp("role"), "dev", DEV)
    committed(repository, file, A_ROLE_MORE)
    return repository


def test_json_shows_the_statements_that_change_and_the_widening(a_role_more):
    _, document = preview(a_role_more, "environments/dev.yaml")
    diffs = {resource["name"]: resource["policy_diffs"] for resource in document["resources"] if resource["policy_diffs"]}
    assert sorted(diffs) == ["dev-kms-us-east-1-key", "dev/payments/stripe-api-key-policy"]
    [secret_policy] = diffs["dev/payments/stripe-api-key-policy"]
    reporting = "ArnEquals aws:PrincipalArn: arn:aws:iam::444444444444:role/ReportingRole"
    assert [(statement["change"], statement["label"], statement["weakens_deny"],
             [(element["element"], element["added"]) for element in statement["elements"] if element["added"]])
            for statement in secret_policy["statements"]] == [
        ("changed", "ReadDevApp", False, [("condition", [reporting])]),
        ("changed", "DescribeForReaders", False, [("condition", [reporting])])]
    widenings = [(change["widening"], change["secret"], change["account"], change["principal"], change["after"])
                 for change in document["access"]["widenings"]]
    assert widenings == [("new principal", "dev/payments/stripe-api-key", "444444444444",
                          "arn:aws:iam::444444444444:role/ReportingRole",
                          ["GetSecretValue", "GetSecretValue AWSCURRENT", "DescribeSecret"])]
    assert document["summary"]["widenings"] == 1 and document["access"]["weakened_denies"] == []


def test_markdown_calls_the_widening_out_before_anything_else(a_role_more):
    _, markdown = preview(a_role_more, "environments/dev.yaml", output_format="markdown")
    headline = markdown.splitlines()[3]
    assert "⚠️ **1 access widening**" in headline
    sections = [line for line in markdown.splitlines() if line.startswith("#### ")]
    assert sections[0] == "#### ⚠️ Access widened"
    assert ("| **new principal** | `444444444444` | `role/ReportingRole` | GetSecretValue (AWSCURRENT), DescribeSecret | "
            "dev/payments/stripe-api-key in us-east-1 |") in markdown
    assert "#### Policy statement changes" in sections and "#### Who can read each secret" in sections
    assert ("| ✏️ | `ReadDevApp` | Allow | `AWS:arn:aws:iam::444444444444:root` | `secretsmanager:GetSecretValue` |  | "
            "+ `ArnEquals aws:PrincipalArn: arn:aws:iam::444444444444:role/ReportingRole` |") in markdown


def test_text_calls_the_widening_out_before_the_resources(a_role_more):
    _, text = preview(a_role_more, "environments/dev.yaml", output_format="text")
    assert text.index("Access widened: review these first") < text.index("Resources")
    assert ("  new principal: 444444444444 role/ReportingRole gains GetSecretValue (AWSCURRENT), DescribeSecret on "
            "dev/payments/stripe-api-key in us-east-1") in text
    assert "      + condition: ArnEquals aws:PrincipalArn: arn:aws:iam::444444444444:role/ReportingRole" in text


def test_a_removed_deny_is_a_widening_of_its_own(tmp_path):
    repository, file = repository_with(tmp_path, "prod", PROD)
    committed(repository, file, NO_ORGANIZATION)
    _, document = preview(repository, "environments/prod.yaml", config=None)
    denies = {(deny["kind"], deny["statement"]) for deny in document["access"]["weakened_denies"]}
    assert denies == {("deny removed", "DenyOutsideOrganization")}
    _, markdown = preview(repository, "environments/prod.yaml", output_format="markdown", config=None)
    assert "| **deny removed** | `DenyOutsideOrganization` |" in markdown
    assert markdown.index("#### ⚠️ Access widened") < markdown.index("#### Changes")


@pytest.mark.parametrize(("protect", "code"), [("false", 0), ("true", 1)])
def test_markdown_shows_no_success_mark_on_a_failing_report(tmp_path, protect, code):
    """Moving the primary region replaces every secret: with protect on, the engine refuses (exit 1,
    no mandatory violation); the summary must not say all is well."""
    base = DEV.replace("  protect: false", f"  protect: {protect}")
    repository, file = repository_with(tmp_path, "dev", base)
    committed(repository, file, base.replace("primary_region: us-east-1", "primary_region: us-west-2"))
    returncode, markdown = preview(repository, "environments/dev.yaml", output_format="markdown")
    headline = markdown.splitlines()[3]
    assert returncode == code
    assert ("✅" in markdown) is (code == 0)
    if code:
        assert headline.startswith("❌ no mandatory policy violation, but the engine refuses a step")


def test_unprotecting_is_called_out_as_removing_a_safeguard(tmp_path):
    protected = DEV.replace("  protect: false", "  protect: true")
    repository, file = repository_with(tmp_path, "dev", protected)
    committed(repository, file, DEV)
    _, markdown = preview(repository, "environments/dev.yaml", output_format="markdown")
    # Each secret's Secret, and the SecretVersion and RandomPassword that hold its value (components/secret.py),
    # and the environment's key, which defaults.protect protects too (components/layout.py).
    assert "⛔ **7 safeguards removed** (`protect` true → false)" in markdown.splitlines()[3]
    assert "- `protect`: `true` → `false` on `dev-kms-us-east-1-key` (`aws:kms/key:Key`): removes a safeguard" in markdown
    assert ("- `protect`: `true` → `false` on `dev/payments/stripe-api-key-secret` "
            "(`aws:secretsmanager/secret:Secret`): removes a safeguard: the engine no longer refuses to delete or "
            "replace it") in markdown
    _, text = preview(repository, "environments/dev.yaml", output_format="text")
    assert text.index("Safeguards removed") < text.index("Resources")


@pytest.mark.parametrize("columns", [80, 120, 160])
def test_the_text_report_fits_the_terminal(a_role_more, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    _, text = preview(a_role_more, "environments/dev.yaml", "--all", output_format="text")
    widest = max(len(line) for line in text.splitlines())
    assert columns - 40 < widest <= columns
    assert "Access widened" in text and "Policy statement changes" in text


def test_components_providers_and_unchanged_resources_show_only_with_all(tmp_path):
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    text = run_cli("preview", str(file), "--policy-config", DEV_CONFIG).stdout
    assert "pulumi:providers:aws" not in text and "secrets-layout:secret:ManagedSecret" not in text
    assert "components and providers not shown: their children's rows say what changes; --all shows them" in text
    every = run_cli("preview", str(file), "--policy-config", DEV_CONFIG, "--all").stdout
    assert "pulumi:providers:aws" in every and "secrets-layout:secret:ManagedSecret" in every
    assert "not shown" not in every


def test_nothing_to_show_is_a_line_not_an_empty_table(tmp_path):
    repository, _ = repository_with(tmp_path, "dev", DEV)
    result = run_cli("preview", "environments/dev.yaml", "--base", "HEAD", "--policy-config", DEV_CONFIG, cwd=repository)
    assert_no_traceback(result)
    assert "No resource changes." in result.stdout and "Resources" not in result.stdout
    assert "Who can read each secret (its resource policy and its key policy in each region): no change." in result.stdout
    assert "Policy statement changes" not in result.stdout and "Access widened" not in result.stdout


def test_deleting_an_environment_widens_nothing(tmp_path):
    """Its secret policies go with their secrets: their denies let nothing through (the failing report
    has no success mark either)."""
    repository, file = repository_with(tmp_path, "prod", PROD)
    git(repository, "rm", "--quiet", "environments/prod.yaml")
    git(repository, "commit", "--quiet", "-m", "retire prod")
    code, document = preview(repository, "environments/prod.yaml", config=None)
    assert code == 1 and document["summary"]["delete"] == document["summary"]["resources"]
    assert document["access"]["widenings"] == [] and document["access"]["weakened_denies"] == []
    _, markdown = preview(repository, "environments/prod.yaml", output_format="markdown", config=None)
    assert "Access widened" not in markdown and "✅" not in markdown


def readme_block(opening: str) -> list[str]:
    """The lines of README.md's code block after the line `opening`, up to the block's end."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index(opening) + 1
    return lines[start:lines.index("```", start)]


def test_the_readme_review_comment_is_the_real_output(tmp_path):
    """The text report of the same change is README's console block, replayed by tests/test_console_blocks.py."""
    assert REPORTING_AND_REPLICA.count("us-west-2]") == 1 and "ReportingRole]}\n      - {account: prod-data" not in PROD
    repository, file = repository_with(tmp_path, "prod", PROD)
    git(repository, "checkout", "--quiet", "-b", "reporting")
    committed(repository, file, REPORTING_AND_REPLICA)
    markdown = run_cli("preview", "environments/prod.yaml", "--base", "main", "--format", "markdown", cwd=repository)
    top = readme_block("<!-- secrets-layout-preview -->")  # the first comment shown: this change's
    assert "⚠️ **2 access widenings**" in top[2]
    assert markdown.stdout.splitlines()[1:1 + len(top)] == top
