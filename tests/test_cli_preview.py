"""`secrets-layout preview` through the installed entry point: plan, violations at their YAML
line, changes against --base, cost, the four formats, and no secret value anywhere."""

from __future__ import annotations

import json
from datetime import date, timedelta

import jsonschema
import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from preview_support import DEV, PROD, git, line_of, repository_with

pytestmark = pytest.mark.slow

OUTPUT_SCHEMA = json.loads((ROOT / "secrets_layout" / "reports" / "preview.schema.json").read_text())


def preview_json(*arguments, cwd=ROOT):
    result = run_cli("preview", *arguments, "--format", "json", cwd=cwd)
    assert_no_traceback(result)
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(OUTPUT_SCHEMA).validate(document)
    return result.returncode, document


@pytest.fixture(scope="module")
def prod_preview():
    return preview_json("environments/prod.yaml")


def test_prod_previews_with_no_mandatory_violation(prod_preview):
    code, document = prod_preview
    assert code == 0
    assert document["environment"] == "prod"
    assert document["summary"]["mandatory"] == 0
    # 53 once prod/legacy/partner-token is migrated (while it is adopted its policy is the owner's),
    # and the replica-key policy on each of the two AWS rotation apps' roles.
    # Against an empty stack everything is created, except the adopted secret and its live rotation.
    imported = [resource["name"] for resource in document["resources"] if resource["change"] == "import"]
    assert {resource["change"] for resource in document["resources"]} == {"create", "import"}
    assert imported == ["prod/legacy/partner-token-secret", "prod/legacy/partner-token-rotation"]
    assert document["summary"]["resources"] == len(document["resources"]) == 54


@pytest.mark.parametrize(("resource_type", "count"), [
    ("aws:secretsmanager/secret:Secret", 5),
    ("aws:secretsmanager/secretRotation:SecretRotation", 5),
    ("aws:kms/key:Key", 3),
    ("aws:ssm/parameter:Parameter", 3),
    ("aws:iam/rolePolicy:RolePolicy", 3),
])
def test_prod_plan_creates_the_layout(prod_preview, resource_type, count):
    _, document = prod_preview
    assert sum(1 for resource in document["resources"] if resource["type"] == resource_type) == count


def test_each_resource_points_at_the_yaml_that_made_it(prod_preview):
    _, document = prod_preview
    lines = {resource["name"]: resource["line"] for resource in document["resources"]}
    assert lines["prod/payments/stripe-api-key-secret"] == line_of(PROD, "name: prod/payments/stripe-api-key")
    assert lines["prod-parameters-prod/orders/log-level"] == line_of(PROD, "/prod/orders/log-level")
    assert lines["prod-kms-eu-west-1-key"] == line_of(PROD, "replicas: [us-west-2, eu-west-1]")


def test_prod_cost_is_the_layout_cost(prod_preview):
    _, document = prod_preview
    assert document["cost"]["monthly_usd"] == 7.8
    assert document["cost"]["prices_as_of"] == "2026-11-01"


VIOLATING = [
    pytest.param("    replicas: []\n", "    replicas: []\n    protect: false\n", "secret-protected", "mandatory",
                 "protect: false", id="unprotected-prod-secret"),
    pytest.param("rotation: {lambda_arn: \"arn:aws:lambda:us-east-1:111111111111:function:partner-rotator\", every_days: 60}",
                 "rotation: {lambda_arn: \"arn:aws:lambda:us-east-1:111111111111:function:partner-rotator\", every_days: 120}",
                 "secret-rotation-max-interval", "mandatory", "every_days: 120", id="rotation-too-rare"),
    pytest.param("  prod-data: \"333333333333\"\n", "  prod-data: \"999999999999\"\n", "secret-policy-allowed-accounts",
                 "mandatory", "account: prod-data", id="reader-account-not-allowed"),
    pytest.param("    tags: {owner: messaging-team}\n", "    tags: {owner: messaging-team}\n    replicas: [ap-south-1]\n",
                 "secret-replica-regions-allowed", "advisory", "replicas: [ap-south-1]",
                 id="replica-region-not-allowed"),
]


@pytest.mark.parametrize(("original", "replacement", "policy", "level", "declared_at"), VIOLATING)
def test_a_violation_is_reported_at_the_line_of_its_field(tmp_path, original, replacement, policy, level, declared_at):
    assert original in PROD
    text = PROD.replace(original, replacement, 1)
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    code, document = preview_json(str(file), "--policy-config", str(ROOT / "policies" / "config" / "prod.json"))
    found = [(violation["policy"], violation["level"], violation["line"]) for violation in document["violations"]]
    assert (policy, level, line_of(text, declared_at)) in found
    assert code == (1 if level == "mandatory" else 0)
    assert document["summary"][level] >= 1


def test_text_format_lists_violations_with_file_and_line(tmp_path):
    text = PROD.replace("    replicas: []\n", "    replicas: []\n    protect: false\n", 1)
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    result = run_cli("preview", str(file), "--policy-config", str(ROOT / "policies" / "config" / "prod.json"), "--all")
    assert result.returncode == 1
    assert f"{file}:{line_of(text, 'protect: false')}:5:" in result.stdout
    assert "secret-protected" in result.stdout
    assert "1 mandatory and 0 advisory policy violations" in result.stdout
    # Type tokens print as they are (rich would turn ":secret:" into an emoji); components show with --all.
    assert "secrets-layout:secret:ManagedSecret" in result.stdout


def test_markdown_is_a_pull_request_comment_linking_each_violation(tmp_path):
    text = PROD.replace("    replicas: []\n", "    replicas: []\n    protect: false\n", 1)
    file = tmp_path / "environments" / "prod.yaml"
    file.parent.mkdir()
    file.write_text(text)
    result = run_cli("preview", "environments/prod.yaml", "--format", "markdown",
                     "--policy-config", str(ROOT / "policies" / "config" / "prod.json"), cwd=tmp_path)
    line = line_of(text, "protect: false")
    assert result.returncode == 1
    assert result.stdout.startswith("<!-- secrets-layout-preview -->\n### secrets-layout preview: `prod`")
    assert "❌ **1 mandatory policy violation**" in result.stdout
    assert f"| 🔴 mandatory | `secret-protected` | [environments/prod.yaml:{line}](environments/prod.yaml#L{line}) |" in result.stdout
    assert "#### Monthly cost (AWS list prices of 2026-11-01)" in result.stdout


def test_sarif_points_each_violation_at_its_line(tmp_path):
    text = PROD.replace("    replicas: []\n", "    replicas: []\n    protect: false\n", 1)
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    output = tmp_path / "preview.sarif"
    result = run_cli("preview", str(file), "--format", "sarif", "--output", str(output),
                     "--policy-config", str(ROOT / "policies" / "config" / "prod.json"))
    assert (result.returncode, result.stdout) == (1, "")
    sarif = json.loads(output.read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("secret-protected", "error")]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == file.as_posix()
    assert location["region"]["startLine"] == line_of(text, "protect: false")
    assert [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]] == ["secret-protected"]


def test_changes_against_a_base_revision(tmp_path):
    repository, file = repository_with(tmp_path, "dev", DEV)
    changed = (DEV.replace("description: Stripe test-mode key", "description: Stripe test-mode key of dev")
                  .replace("  - name: dev/tools/feature-flag-sdk-key", "  - name: dev/tools/flag-sdk-key"))
    file.write_text(changed)
    git(repository, "commit", "--quiet", "-am", "second")
    code, document = preview_json("environments/dev.yaml", "--base", "HEAD~1", cwd=repository)
    by_name = {resource["name"]: resource for resource in document["resources"]}
    assert code == 0
    assert document["base"] == "HEAD~1"
    assert (by_name["dev/payments/stripe-api-key-secret"]["change"],
            by_name["dev/payments/stripe-api-key-secret"]["changed_properties"]) == ("update", ["description"])
    assert by_name["dev/database/credentials-secret"]["change"] == "same"
    assert by_name["dev/tools/flag-sdk-key-secret"]["change"] == "create"
    deleted = by_name["dev/tools/feature-flag-sdk-key-secret"]
    recoverable_until = (date.today() + timedelta(days=7)).isoformat()
    assert (deleted["change"], deleted["line"]) == ("delete", None)
    assert deleted["note"] == f"recoverable until {recoverable_until} (7-day recovery window), then gone"
    assert document["summary"]["update"] >= 1 and document["cost"]["delta_monthly_usd"] == 0.0


def test_deleting_a_protected_secret_is_called_out_as_blocked(tmp_path):
    repository, file = repository_with(tmp_path, "prod", PROD)
    start = PROD.index("  - name: prod/notifications/sendgrid-api-key")
    end = PROD.index("  - name: prod/legacy/partner-token")
    file.write_text(PROD[:start] + PROD[end:])
    git(repository, "commit", "--quiet", "-am", "drop sendgrid")
    code, document = preview_json("environments/prod.yaml", "--base", "HEAD~1", "--policy-config",
                                  str(ROOT / "policies" / "config" / "prod.json"), cwd=repository)
    deleted = {resource["name"]: resource for resource in document["resources"] if resource["change"] == "delete"}
    assert deleted["prod/notifications/sendgrid-api-key-secret"]["note"].startswith("blocked: the resource is protected")
    assert document["cost"]["delta_monthly_usd"] == -1.2


def test_a_new_environment_is_all_creates_against_its_base(tmp_path):
    repository, _ = repository_with(tmp_path, "prod", PROD)
    (repository / "environments" / "dev.yaml").write_text(DEV)
    code, document = preview_json("environments/dev.yaml", "--base", "HEAD", cwd=repository)
    assert {resource["change"] for resource in document["resources"]} == {"create"}
    assert document["warnings"] == ["environments/dev.yaml does not exist at HEAD: every resource is new"]


@pytest.mark.parametrize(("arguments", "message"), [
    (("preview", "missing.yaml"), "secrets-layout preview: error: missing.yaml: no such file"),
    (("preview", "environments/dev.yaml", "--policy-config", "nope.json"), "nope.json: no such file"),
    (("preview", "environments/dev.yaml", "--base", "no-such-ref"), "--base no-such-ref: not a revision"),
    (("preview", "environments/dev.yaml", "--format", "html"), "argument --format: invalid choice: 'html'"),
])
def test_preview_usage_errors_exit_2(arguments, message):
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(("output_format", "expected_start"), [
    ("text", "{file}:"), ("json", '{{\n  "valid": false'), ("markdown", "<!-- secrets-layout-preview -->"),
    ("sarif", "{{\n  \"$schema\""),
])
def test_an_invalid_declaration_exits_1_in_every_format(tmp_path, output_format, expected_start):
    file = tmp_path / "prod.yaml"
    file.write_text(PROD.replace("every_days: 30", "every_days: 0", 1))
    result = run_cli("preview", str(file), "--format", output_format)
    assert result.returncode == 1
    assert result.stdout.startswith(expected_start.format(file=file))
    assert "every_days" in result.stdout
    assert_no_traceback(result)


def test_no_secret_value_in_any_format():
    from secrets_layout.declaration.loader import load_declaration
    from secrets_layout.engine.recorded_values import SecretValue
    from secrets_layout.engine.programs import CONFIG_PLACEHOLDER, evaluate_declaration

    simulation = evaluate_declaration(load_declaration(ROOT / "environments" / "prod.yaml"))
    hidden = set()

    def collect(value):
        if isinstance(value, SecretValue):
            revealed = value.reveal()
            hidden.add(revealed if isinstance(revealed, str) else json.dumps(revealed))
            collect(revealed)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for resource in simulation.resources:
        collect(resource.inputs)
        collect(resource.outputs)
    generated = {value for value in hidden if len(value) >= 16}
    assert generated and CONFIG_PLACEHOLDER in hidden
    for output_format in ("text", "json", "markdown", "sarif"):
        output = run_cli("preview", "environments/prod.yaml", "--format", output_format)
        for value in generated | {CONFIG_PLACEHOLDER}:
            assert value not in output.stdout + output.stderr, f"a secret value leaked into --format {output_format}"


def test_a_terminal_sees_a_progress_line(tmp_path):
    """On a terminal the preview says what it is doing on stderr; redirected, it stays quiet."""
    import os
    import pty
    import subprocess

    from cli_support import COMMAND

    import threading

    primary, secondary = pty.openpty()
    output = tmp_path / "report.txt"
    chunks: list[bytes] = []

    def drain() -> None:
        # Read while the preview runs: a pty buffers about 17 KB, and a spinner redrawn for longer
        # than that on a busy machine would block the CLI's writes for good.
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    process = subprocess.run([str(COMMAND), "preview", "environments/dev.yaml", "--output", str(output)],
                             cwd=ROOT, stdin=secondary, stderr=secondary, stdout=subprocess.DEVNULL,
                             timeout=300, check=False)
    os.close(secondary)
    reader.join(timeout=30)
    os.close(primary)
    seen = b"".join(chunks)
    assert process.returncode == 0
    # The status line is redrawn in place; at least one of its steps is on screen long enough.
    assert b"simulating the deployment of environments/dev.yaml" in seen or b"checking 30 resources" in seen
    assert output.read_text().startswith("secrets-layout preview of environments/dev.yaml")
