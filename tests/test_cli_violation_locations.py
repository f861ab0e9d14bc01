"""Through the installed entry point: each policy violation at the declaration field that causes it,
in every format, and `validate --policy-config` agreeing with `preview` on every declaration-only rule.

The agreement is the promise of the pre-commit hook: a declaration that passes
`validate --policy-config` passes the pull request's preview on the same policies, at the same
lines, with the same messages and levels, and with the same exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from declaration_support import HEADER
from preview_support import PROD

pytestmark = pytest.mark.slow

CONFIG_DIR = ROOT / "policies" / "config"
ENVIRONMENTS = ("dev", "staging", "prod", "shared-services")


def position_of(text: str, fragment: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the start of `fragment`'s n-th occurrence, both from 1."""
    found = 0
    for number, line in enumerate(text.splitlines(), 1):
        column = line.find(fragment)
        while column >= 0:
            found += 1
            if found == occurrence:
                return number, column + 1
            column = line.find(fragment, column + 1)
    raise AssertionError(f"{fragment!r} occurs fewer than {occurrence} times")


def config_with(tmp_path: Path, environment: str = "prod", **changes: dict) -> Path:
    """The environment's policy config with some policies' settings changed."""
    config = json.loads((CONFIG_DIR / f"{environment}.json").read_text())
    for policy, settings in changes.items():
        config.setdefault(policy.replace("_", "-"), {}).update(settings)
    file = tmp_path / f"{environment}-policies.json"
    file.write_text(json.dumps(config))
    return file


def preview(file: Path, config: Path) -> tuple[int, list[dict]]:
    result = run_cli("preview", str(file), "--policy-config", str(config), "--format", "json")
    assert_no_traceback(result)
    return result.returncode, json.loads(result.stdout)["violations"]


def validate(file: Path, config: Path) -> tuple[int, dict]:
    result = run_cli("validate", str(file), "--policy-config", str(config), "--format", "json")
    assert_no_traceback(result)
    return result.returncode, json.loads(result.stdout)


def _replace(text: str, original: str, replacement: str) -> str:
    assert original in text
    return text.replace(original, replacement, 1)


STRIPE_REPLICAS = "    replicas: []\n"
SENDGRID_TAGS = "    tags: {owner: messaging-team}\n"
PARTNER_ROTATION = 'rotation: {lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:partner-rotator", every_days: 60}'
WITHOUT_ROTATION = HEADER + """\
secrets:
  - name: prod/app/api-key
    kind: api-key
    value: {from_config: appApiKey}
    tags: {owner: app-team}
    readers: [{account: prod-app, roles: [AppRole]}]
"""

# (declaration, config changes, policy, level, [(fragment, occurrence) of each expected location])
CASES = [
    pytest.param(_replace(PROD, STRIPE_REPLICAS, STRIPE_REPLICAS + "    protect: false\n"), {},
                 "secret-protected", "mandatory", [("protect: false", 1)], id="protect-false"),
    pytest.param(_replace(PROD, PARTNER_ROTATION, PARTNER_ROTATION.replace("every_days: 60", "every_days: 120")), {},
                 "secret-rotation-max-interval", "mandatory", [("every_days: 120", 1)], id="every-days-in-the-secret"),
    pytest.param(_replace(PROD, "  rotation: {every_days: 30}\n", "  rotation: {every_days: 120}\n"), {},
                 # Once at the defaults: line for both secrets inheriting it (issue 21: each problem once).
                 "secret-rotation-max-interval", "mandatory", [("every_days: 120", 1)],
                 id="every-days-inherited-from-defaults"),
    pytest.param(PROD, {"secret_rotation_max_interval": {"maximumDays": 30}},
                 "secret-rotation-max-interval", "mandatory",
                 [('schedule: "cron(0 4 ? * SUN#1 *)"', 1), ("every_days: 60", 1)],
                 id="cron-schedule-with-a-long-gap"),
    pytest.param(_replace(PROD, '  prod-data: "333333333333"\n', '  prod-data: "999999999999"\n'), {},
                 "secret-policy-allowed-accounts", "mandatory",
                 # The second prod-data reader is prod/legacy/partner-token's, which is being adopted: its
                 # policy stays its owner's until the migration, so nothing of ours is judged there.
                 [("account: prod-data", 1)], id="reader-account-not-allowed"),
    pytest.param(_replace(PROD, SENDGRID_TAGS, SENDGRID_TAGS + "    replicas: [ap-south-1]\n"), {},
                 "secret-replica-regions-allowed", "advisory", [("ap-south-1", 1)], id="replica-region-not-allowed"),
    pytest.param(_replace(PROD, SENDGRID_TAGS, SENDGRID_TAGS + "    recovery_window_days: 10\n"),
                 {"secret_recovery_window": {"minimumDays": 14}},
                 "secret-recovery-window", "mandatory", [("recovery_window_days: 10", 1)], id="recovery-window-short"),
    pytest.param(PROD, {"secret_required_tags": {"requiredTags": ["owner", "environment", "team"]}},
                 "secret-required-tags", "mandatory",
                 # The defaults: line once for the four secrets inheriting it (issue 21: each problem once).
                 [("tags: {owner: platform-team", 1), ("tags: {owner: messaging-team}", 1)],
                 id="required-tag-missing"),
    pytest.param(_replace(PROD, "name: prod/notifications/sendgrid-api-key", "name: prod/Notifications/sendgrid-api-key"),
                 {}, "secret-name-convention", "mandatory", [("name: prod/Notifications/sendgrid-api-key", 1)],
                 id="name-convention"),
    pytest.param(WITHOUT_ROTATION, {}, "secret-rotation-required", "mandatory", [("name: prod/app/api-key", 1)],
                 id="no-rotation"),
]


@pytest.mark.parametrize(("text", "changes", "policy", "level", "expected"), CASES)
def test_validate_and_preview_agree_at_the_field_of_the_violation(tmp_path, text, changes, policy, level, expected):
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    config = config_with(tmp_path, **changes)
    preview_code, violations = preview(file, config)
    validate_code, validated = validate(file, config)

    located = sorted((found["file"], found["line"], found["column"]) for found in violations if found["policy"] == policy)
    assert located == sorted((str(file), *position_of(text, *where)) for where in expected)
    assert {found["level"] for found in violations if found["policy"] == policy} == {level}
    assert all("In the declaration" in found["message"] for found in violations if found["policy"] == policy)

    # validate --policy-config: the same violations (all of them here depend on the declaration only)
    def seen(found):
        return found["policy"], found["level"], found["file"], found["line"], found["column"], found["message"]

    from_preview = sorted(seen(found) for found in violations if not found["message"].startswith("can't run policy"))
    from_validate = sorted(seen(found) for found in validated["errors"] + validated["warnings"])
    assert from_validate == from_preview
    assert preview_code == validate_code == (1 if level == "mandatory" else 0)


def test_an_unchanged_example_passes_both(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(PROD)
    config = CONFIG_DIR / "prod.json"
    assert preview(file, config) == (0, [])
    assert validate(file, config) == (0, {"valid": True, "errors": [], "warnings": []})


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_rotation_violation_of_an_example_points_at_its_interval_line(tmp_path, environment):
    """With maximumDays 1, every rotation of the example is too rare: each is reported at the
    `every_days:` or `schedule:` key that sets its interval (the secret's, or the inherited one
    of `defaults:`, reported once for every secret inheriting it)."""
    file = ROOT / "environments" / f"{environment}.yaml"
    lines = file.read_text().splitlines()
    config = config_with(tmp_path, environment, secret_rotation_max_interval={"maximumDays": 1})
    result = run_cli("preview", str(file), "--policy-config", str(config), "--format", "json")
    document = json.loads(result.stdout)
    rotations = [resource for resource in document["resources"]
                 if resource["type"] == "aws:secretsmanager/secretRotation:SecretRotation"]
    found = [violation for violation in document["violations"] if violation["policy"] == "secret-rotation-max-interval"]
    assert sum(max(1, len(violation["inherited_by"])) for violation in found) == len(rotations) > 0
    for violation in found:
        written = lines[violation["line"] - 1][violation["column"] - 1:]
        assert written.startswith(("every_days:", "schedule:")), (violation["line"], written)


PROTECT_FALSE = _replace(PROD, STRIPE_REPLICAS, STRIPE_REPLICAS + "    protect: false\n")
PROTECT_FIX = ("In the declaration: set `protect: true` on the secret (or remove `protect: false`, here or under "
               "`defaults:`); to delete the secret on purpose later, set `protect: false` in a change of its own first.")


def test_text_format_gives_file_line_and_column_of_the_field(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(PROTECT_FALSE)
    line, column = position_of(PROTECT_FALSE, "protect: false")
    result = run_cli("preview", str(file), "--policy-config", str(CONFIG_DIR / "prod.json"))
    assert result.returncode == 1
    expected = f"{file}:{line}:{column}: mandatory secret-protected: The secret is not protected"
    assert expected in result.stdout
    assert "ResourceOptions" not in result.stdout


def test_markdown_links_the_field_line(tmp_path):
    file = tmp_path / "environments" / "prod.yaml"
    file.parent.mkdir()
    file.write_text(PROTECT_FALSE)
    line, _ = position_of(PROTECT_FALSE, "protect: false")
    result = run_cli("preview", "environments/prod.yaml", "--format", "markdown",
                     "--policy-config", str(CONFIG_DIR / "prod.json"), cwd=tmp_path)
    assert f"| 🔴 mandatory | `secret-protected` | [environments/prod.yaml:{line}](environments/prod.yaml#L{line}) |" \
        in result.stdout
    assert PROTECT_FIX.replace("|", "\\|") in result.stdout


def test_sarif_region_is_the_field(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(PROTECT_FALSE)
    line, column = position_of(PROTECT_FALSE, "protect: false")
    result = run_cli("preview", str(file), "--format", "sarif", "--policy-config", str(CONFIG_DIR / "prod.json"))
    results = json.loads(result.stdout)["runs"][0]["results"]
    assert [(found["ruleId"], found["locations"][0]["physicalLocation"]["region"]) for found in results] == [
        ("secret-protected", {"startLine": line, "startColumn": column})]
    assert results[0]["message"]["text"].endswith(PROTECT_FIX)
