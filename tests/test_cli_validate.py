"""`secrets-layout validate` and `schema` through the installed entry point (SPEC section 7)."""

from __future__ import annotations

import json

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli
from declaration_support import VALID_SECRET, declaration

pytestmark = pytest.mark.slow


def test_validate_defaults_to_every_environment_with_its_policy_config():
    result = run_cli("validate")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "environments/dev.yaml: valid (3 secrets, 2 parameters; checked against policies/config/dev.json)",
        "environments/prod.yaml: valid (5 secrets, 3 parameters; checked against policies/config/prod.json)",
        "environments/shared-services.yaml: valid (3 secrets, 2 parameters; checked against "
        "policies/config/shared-services.json)",
        "environments/staging.yaml: valid (3 secrets, 1 parameter; checked against policies/config/staging.json)",
    ]


def test_no_policy_config_checks_the_declarations_only():
    result = run_cli("validate", "--no-policy-config")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "environments/dev.yaml: valid (3 secrets, 2 parameters)",
        "environments/prod.yaml: valid (5 secrets, 3 parameters)",
        "environments/shared-services.yaml: valid (3 secrets, 2 parameters)",
        "environments/staging.yaml: valid (3 secrets, 1 parameter)",
    ]


@pytest.fixture
def invalid_file(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(declaration(VALID_SECRET.replace("every_days: 30", "every_days: 0") + "    colour: blue\n"))
    return file


def test_invalid_declaration_prints_one_line_per_error_and_exits_1(invalid_file):
    result = run_cli("validate", str(invalid_file))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{invalid_file}:10:55: secrets[0].rotation.every_days: must be at least 1 — Rotate every N days (1-1000).",
        f"{invalid_file}:12:5: secrets[0].colour: unknown field 'colour'; allowed fields: adopt, description, format, "
        "import_id, kind, name, protect, readers, recovery_window_days, replicas, rotation, tags, value",
    ]
    assert_no_traceback(result)


def test_json_format_is_the_spec_document(invalid_file):
    result = run_cli("validate", "--no-policy-config", "--format", "json", str(invalid_file), "environments/dev.yaml")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "valid": False,
        "errors": [
            {"file": str(invalid_file), "line": 10, "column": 55, "path": "secrets[0].rotation.every_days",
             "message": "must be at least 1 — Rotate every N days (1-1000)."},
            {"file": str(invalid_file), "line": 12, "column": 5, "path": "secrets[0].colour",
             "message": "unknown field 'colour'; allowed fields: adopt, description, format, import_id, kind, name, "
                        "protect, readers, recovery_window_days, replicas, rotation, tags, value"},
        ],
    }


def test_json_format_of_valid_files():
    result = run_cli("validate", "--format", "json", "environments")
    # The pack's rules ran (each environment's policy config): its advisory findings are the warnings.
    assert (result.returncode, json.loads(result.stdout)) == (0, {"valid": True, "errors": [], "warnings": []})
    result = run_cli("validate", "--no-policy-config", "--format", "json", "environments")
    assert (result.returncode, json.loads(result.stdout)) == (0, {"valid": True, "errors": []})


@pytest.mark.parametrize(("arguments", "message"), [
    (("validate", "missing.yaml"), "secrets-layout validate: error: missing.yaml: no such file"),
    (("validate", "--colour"), "secrets-layout: error: unrecognized arguments: --colour"),
    (("validate", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
    (("validate", "--policy-config", "policies/config/dev.json", "--no-policy-config"),
     "argument --no-policy-config: not allowed with argument --policy-config"),
    (("validate", "--policy-config", "missing.json"), "secrets-layout validate: error: missing.json: no such file"),
    (("frobnicate",), "argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_usage_errors_exit_2(arguments, message):
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)


def test_validate_without_declarations_is_a_usage_error(tmp_path):
    result = run_cli("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "no declarations match environments/*.yaml" in result.stderr


def test_schema_command_prints_the_checked_in_schema():
    result = run_cli("schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "environments" / "schema.json").read_text()


def test_the_version_is_looked_up_only_for_version(monkeypatch, capsys):
    """Package metadata costs every command's start-up; only `--version` may read it."""
    from secrets_layout import cli

    def no_lookup() -> str:
        raise AssertionError("the version was looked up")

    monkeypatch.setattr(cli, "_version", no_lookup)
    assert cli._parser().parse_args(["validate", "environments/dev.yaml"]).command == "validate"
    monkeypatch.setattr(cli, "_version", lambda: "9.9.9")
    with pytest.raises(SystemExit) as exited:
        cli._parser().parse_args(["--version"])
    assert (exited.value.code, capsys.readouterr().out) == (0, "secrets-layout 9.9.9\n")


PACK_RULES = ("secrets_layout.findings.declared", "secrets_layout.policies.catalog", "secrets_layout.components.plan.layout")


@pytest.mark.parametrize("with_config, loaded", [(False, []), (True, list(PACK_RULES))])
def test_the_pack_rules_are_loaded_only_when_a_policy_config_applies(tmp_path, with_config, loaded):
    """validate runs in pre-commit hooks: a declaration without a policy config does not pay for
    importing the layout's plan and the policy catalog (about 40 ms of a 0.5 s validate)."""
    import shutil
    import subprocess
    import sys

    (tmp_path / ".git").mkdir()
    (tmp_path / "environments").mkdir()
    shutil.copy(ROOT / "environments" / "dev.yaml", tmp_path / "environments" / "dev.yaml")
    if with_config:
        (tmp_path / "policies" / "config").mkdir(parents=True)
        shutil.copy(ROOT / "policies" / "config" / "dev.json", tmp_path / "policies" / "config" / "dev.json")
    program = ("import sys\nfrom secrets_layout.cli import main\nmain(['validate', 'environments/dev.yaml'])\n"
               f"print(sorted(name for name in {PACK_RULES!r} if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == repr(sorted(loaded)), result.stderr
