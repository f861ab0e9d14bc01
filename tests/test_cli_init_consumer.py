"""`secrets-layout init` and `consumer-policy` through the installed entry point."""

from __future__ import annotations

import json

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli

pytestmark = pytest.mark.slow

# In a folder without a Pulumi project: the project, the policy pack and the .gitignore lines (tests/test_project_files.py).
PROJECT_WRITTEN = ("wrote Pulumi.yaml\nwrote __main__.py\nwrote requirements.txt\nwrote policies/PulumiPolicy.yaml\n"
                   "wrote policies/__main__.py\nwrote policies/requirements.txt\nwrote .gitignore\n")


def test_init_scaffolds_three_files_that_validate(tmp_path):
    result = run_cli("init", "qa", "--account", "qa-app=888888888888", "--security-account", "111111111111", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "wrote environments/qa.yaml\nwrote Pulumi.qa.yaml\nwrote policies/config/qa.json\n"
                                                     "wrote environments/schema.json\n" + PROJECT_WRITTEN)
    validated = run_cli("validate", cwd=tmp_path)
    assert (validated.returncode, validated.stdout) == (
        0, "environments/qa.yaml: valid (0 secrets, 0 parameters; checked against policies/config/qa.json)\n")
    config = json.loads((tmp_path / "policies" / "config" / "qa.json").read_text())
    assert config["secret-policy-allowed-accounts"]["allowedAccounts"] == ["111111111111", "888888888888"]


# Safe by default, never by name (issue 21): `production` is as protected as `prod`; less only when asked.
@pytest.mark.parametrize(("options", "protect", "levels", "defaults"), [
    ((), True, {"secret-protected": "mandatory", "secret-policy-deny-outside": "mandatory"},
     {"recovery_window_days": 30, "rotation": {"every_days": 30}}),
    (("--protect",), True, {"secret-protected": "mandatory"}, {}),
    (("--no-protect",), False, {"secret-protected": "disabled"}, {}),
    (("--no-protect", "--rotation-days", "7", "--maximum-days", "7", "--recovery-window-days", "7",
      "--deny-outside", "advisory"), False,
     {"secret-protected": "disabled", "secret-policy-deny-outside": "advisory"},
     {"recovery_window_days": 7, "rotation": {"every_days": 7}}),
], ids=["default", "protect", "no-protect", "relaxed"])
def test_init_writes_protection_and_strictness_as_asked(tmp_path, options, protect, levels, defaults):
    import yaml

    result = run_cli("init", "production", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    declaration = yaml.safe_load((tmp_path / "environments" / "production.yaml").read_text())
    assert declaration["defaults"]["protect"] is protect
    assert {key: declaration["defaults"][key] for key in defaults} == defaults
    config = json.loads((tmp_path / "policies" / "config" / "production.json").read_text())
    assert {name: config[name]["enforcementLevel"] for name in levels} == levels
    validated = run_cli("validate", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout


@pytest.mark.parametrize(("arguments", "message"), [
    (("--rotation-days", "0"), "secrets-layout init: error: --rotation-days 0: rotate every 1 to 1000 days"),
    (("--rotation-days", "120"), "secrets-layout init: error: --maximum-days 90 is shorter than the rotation interval "
                                 "(120 days), so every secret would fail secret-rotation-max-interval; give a maximum "
                                 "at least as long"),
    (("--recovery-window-days", "3"), "secrets-layout init: error: --recovery-window-days 3: AWS keeps a deleted "
                                      "secret 7 to 30 days"),
    (("--rotation-days", "x"), "argument --rotation-days: invalid int value: 'x'"),
    (("--deny-outside", "disabled"), "argument --deny-outside: invalid choice: 'disabled'"),
])
def test_init_refuses_settings_that_cannot_hold(tmp_path, arguments, message):
    result = run_cli("init", "qa", *arguments, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr
    assert_no_traceback(result)
    assert list(tmp_path.iterdir()) == []


def test_init_never_overwrites_without_force(tmp_path):
    (tmp_path / "environments").mkdir()
    mine = tmp_path / "environments" / "qa.yaml"
    mine.write_text("# my own work\n")
    result = run_cli("init", "qa", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == ("secrets-layout init: environments/qa.yaml already exists; nothing was written. "
                             "Use --force to overwrite.\n")
    assert mine.read_text() == "# my own work\n" and not (tmp_path / "Pulumi.qa.yaml").exists()
    assert run_cli("init", "qa", "--force", cwd=tmp_path).returncode == 0
    assert mine.read_text() != "# my own work\n"


@pytest.mark.parametrize("arguments", [("init", "Q_A"), ("init", "qa", "--account", "qa-app=123"), ("init",)])
def test_init_usage_errors_exit_2(tmp_path, arguments):
    result = run_cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert list(tmp_path.iterdir()) == []


def test_consumer_policy_prints_the_reader_roles_policy():
    result = run_cli("consumer-policy", "prod/payments/stripe-api-key", "--account", "prod-app")
    assert result.returncode == 0
    # The same from any folder of the repository: its environments/ is found from there.
    for folder in (ROOT / "docs", ROOT / "environments"):
        elsewhere = run_cli("consumer-policy", "prod/payments/stripe-api-key", "--account", "prod-app", cwd=folder)
        assert (elsewhere.returncode, elsewhere.stdout, elsewhere.stderr) == (0, result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert document["Statement"][0]["Resource"] == (
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/payments/stripe-api-key-??????")
    assert document["Statement"][1]["Condition"] == {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}
    assert "PaymentsRole in prod-app (222222222222)" in result.stderr
    assert "Reading by VersionId is not limited by stage" in result.stderr
    assert "is denied" not in result.stderr.split("Reading by VersionId")[1], "no stage is promised to be hidden"


def test_consumer_policy_of_a_secret_in_step_1_of_its_adoption_says_it_grants_nothing_yet():
    result = run_cli("consumer-policy", "prod/legacy/partner-token", "--account", "prod-data")
    assert result.returncode == 0
    assert json.loads(result.stdout)["Statement"][0]["Sid"] == "ReadSecrets", "the policy as after step 2"
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith(
        "prod/legacy/partner-token is in step 1 of its adoption (import_id with adopt:): the layout has not written "
        "its resource policy yet, so this policy alone gives the roles no access; step 2 (removing adopt:) deploys "
        "the resource policy from readers:. Until then, who may read the secret is up to its owner's resource "
        "policy and key policy.\n")


@pytest.mark.parametrize(("arguments", "code", "message"), [
    (("consumer-policy", "prod/payments/stripe-api-key", "--account", "prod-web"), 1, "unknown account 'prod-web'"),
    (("consumer-policy", "prod/payments/stripe-api-kee", "--account", "prod-app"), 1, "did you mean 'prod/payments/stripe-api-key'"),
    (("consumer-policy", "prod/payments/stripe-api-key", "--account", "prod-data"), 1, "readers:"),
    (("consumer-policy", "prod/payments/stripe-api-key"), 2, "the following arguments are required: --account"),
    (("consumer-policy", "x", "--account", "a", "--file", "missing.yaml"), 2, "missing.yaml: no such file"),
])
def test_consumer_policy_refusals(arguments, code, message):
    result = run_cli(*arguments)
    assert result.returncode == code
    assert message in result.stderr
    assert_no_traceback(result)


def test_init_from_an_environment_copies_its_structure(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "prod.yaml").write_text((ROOT / "environments" / "prod.yaml").read_text())
    result = run_cli("init", "qa", "--from", "prod", "--account", "qa-app=888888888888",
                     "--security-account", "999999999999", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == ("wrote environments/qa.yaml\nwrote Pulumi.qa.yaml\nwrote policies/config/qa.json\n"
                             "wrote environments/schema.json\n" + PROJECT_WRITTEN)
    validated = run_cli("validate", "environments/qa.yaml", cwd=tmp_path)
    # Valid with the pack's rules, and no advisory: the policy config allows the copy's replica regions.
    assert (validated.returncode, validated.stdout) == (
        0, "environments/qa.yaml: valid (5 secrets, 3 parameters; checked against policies/config/qa.json)\n")


@pytest.mark.parametrize(("content", "message"), [
    (None, "environments/prod.yaml: no such file"),
    ("environment: prod\n", "--from prod: environments/prod.yaml is not a valid declaration; fix it first:"),
])
def test_init_from_needs_a_valid_source(tmp_path, content, message):
    if content is not None:
        (tmp_path / "environments").mkdir()
        (tmp_path / "environments" / "prod.yaml").write_text(content)
    result = run_cli("init", "qa", "--from", "prod", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "environments" / "qa.yaml").exists()
    assert_no_traceback(result)
