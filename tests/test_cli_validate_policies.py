"""`secrets-layout validate --policy-config FILE|auto` through the installed entry point, the
pre-commit hook that uses it, and the resources it judges (built as the components build them).

Agreement with `preview` on every declaration-only rule: tests/test_cli_violation_locations.py.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from cli_support import ROOT, assert_no_traceback, run_cli
from declaration_support import VALID_SECRET, declaration
from preview_support import PROD, git

pytestmark = pytest.mark.slow

PROD_CONFIG = ROOT / "policies" / "config" / "prod.json"
STRIPE_REPLICAS = "    replicas: []\n"
SENDGRID_TAGS = "    tags: {owner: messaging-team}\n"
UNPROTECTED = PROD.replace(STRIPE_REPLICAS, STRIPE_REPLICAS + "    protect: false\n", 1)
REPLICA_ELSEWHERE = PROD.replace(SENDGRID_TAGS, SENDGRID_TAGS + "    replicas: [ap-south-1]\n", 1)


def line_of(text: str, written: str) -> int:
    """The line number of the first line that is exactly `written` (the examples change; the fields stay)."""
    return text.splitlines().index(written) + 1


PROTECT_LINE = line_of(UNPROTECTED, "    protect: false")
ELSEWHERE_LINE = line_of(REPLICA_ELSEWHERE, "    replicas: [ap-south-1]")

PROTECT_MESSAGE = (
    "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret and every "
    "credential its consumers use. In the declaration: set `protect: true` on the secret (or remove `protect: false`, "
    "here or under `defaults:`); to delete the secret on purpose later, set `protect: false` in a change of its own "
    "first.")
REPLICA_MESSAGE = (
    "Replica 0 is in region ap-south-1, which is not one of the allowed regions (us-east-1, us-west-2, eu-west-1). "
    "Copies of a secret outside the approved regions escape the data-residency and recovery plan. In the declaration: "
    "remove the region from `replicas:` (the secret's or `defaults: replicas:`), or add it to allowedRegions in the "
    "policy config.")


def write(folder: Path, text: str, name: str = "prod.yaml") -> Path:
    file = folder / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


def test_a_mandatory_violation_is_an_error_at_its_field(tmp_path):
    file = write(tmp_path, UNPROTECTED)
    result = run_cli("validate", str(file), "--policy-config", str(PROD_CONFIG))
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        f"{file}:{PROTECT_LINE}:5: secrets[2].protect: mandatory secret-protected: {PROTECT_MESSAGE}"]


def test_an_advisory_violation_is_a_warning_and_the_file_stays_valid(tmp_path):
    file = write(tmp_path, REPLICA_ELSEWHERE)
    result = run_cli("validate", str(file), "--policy-config", str(PROD_CONFIG))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"{file}: valid (5 secrets, 3 parameters; checked against policies/config/prod.json)",
        f"{file}:{ELSEWHERE_LINE}:16: secrets[3].replicas[0]: advisory secret-replica-regions-allowed: {REPLICA_MESSAGE}",
    ]


def test_json_format_carries_policy_and_level(tmp_path):
    unprotected, elsewhere = write(tmp_path, UNPROTECTED), write(tmp_path, REPLICA_ELSEWHERE, "other/prod.yaml")
    result = run_cli("validate", str(unprotected), str(elsewhere), "--policy-config", str(PROD_CONFIG), "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "valid": False,
        "errors": [{"file": str(unprotected), "line": PROTECT_LINE, "column": 5, "path": "secrets[2].protect",
                    "message": PROTECT_MESSAGE, "policy": "secret-protected", "level": "mandatory"}],
        "warnings": [{"file": str(elsewhere), "line": ELSEWHERE_LINE, "column": 16, "path": "secrets[3].replicas[0]",
                      "message": REPLICA_MESSAGE, "policy": "secret-replica-regions-allowed", "level": "advisory"}],
    }


def test_no_policy_config_checks_only_the_declaration(tmp_path):
    file = write(tmp_path, UNPROTECTED)
    result = run_cli("validate", "--no-policy-config", str(file))
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{file}: valid (5 secrets, 3 parameters)\n", "")


# The same rules at every gate (issue 21): plain `validate` said "valid" for what the pull request then failed.
@pytest.mark.parametrize("arguments", [(), ("--policy-config", "auto")], ids=["default", "auto"])
def test_plain_validate_finds_the_environments_policy_config_as_preview_does(tmp_path, arguments):
    repository = tmp_path / "repo"
    write(repository, PROD.replace("every_days: 30", "every_days: 400", 1), "environments/prod.yaml")
    (repository / ".git").mkdir()
    shutil.copytree(ROOT / "policies" / "config", repository / "policies" / "config")
    result = run_cli("validate", *arguments, "environments/prod.yaml", cwd=repository)
    assert (result.returncode, result.stderr) == (1, "")
    lines = result.stdout.splitlines()  # every secret that inherits defaults.rotation
    assert lines and all(": mandatory secret-rotation-max-interval: " in line and "400 days" in line
                         for line in lines)
    result = run_cli("validate", "--no-policy-config", "environments/prod.yaml", cwd=repository)
    assert (result.returncode, result.stdout) == (0, "environments/prod.yaml: valid (5 secrets, 3 parameters)\n")


def test_a_disabled_policy_is_not_run(tmp_path):
    """dev.json disables secret-protected; dev's defaults say protect: false."""
    result = run_cli("validate", "environments/dev.yaml", "--policy-config", "policies/config/dev.json")
    assert (result.returncode, result.stdout) == (
        0, "environments/dev.yaml: valid (3 secrets, 2 parameters; checked against policies/config/dev.json)\n")


def test_auto_uses_the_environment_config_of_the_repository(tmp_path):
    repository = tmp_path / "repo"
    write(repository, UNPROTECTED, "environments/prod.yaml")
    (repository / ".git").mkdir()
    config = repository / "policies" / "config" / "prod.json"
    config.parent.mkdir(parents=True)
    settings = json.loads(PROD_CONFIG.read_text())
    settings["secret-protected"] = {"enforcementLevel": "advisory"}
    config.write_text(json.dumps(settings))
    result = run_cli("validate", "environments/prod.yaml", "--policy-config", "auto", cwd=repository)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "environments/prod.yaml: valid (5 secrets, 3 parameters; checked against policies/config/prod.json)",
        f"environments/prod.yaml:{PROTECT_LINE}:5: secrets[2].protect: advisory secret-protected: {PROTECT_MESSAGE}",
    ]


def test_auto_without_a_config_in_the_repository_checks_the_declaration_and_says_so(tmp_path):
    repository = tmp_path / "repo"
    write(repository, UNPROTECTED, "environments/prod.yaml")
    (repository / ".git").mkdir()
    above = tmp_path / "policies" / "config" / "prod.json"  # above the repository's top: not its config
    above.parent.mkdir(parents=True)
    shutil.copy(PROD_CONFIG, above)
    result = run_cli("validate", "environments/prod.yaml", "--policy-config", "auto", cwd=repository)
    assert (result.returncode, result.stdout) == (0, "environments/prod.yaml: valid (5 secrets, 3 parameters)\n")
    assert result.stderr == ("secrets-layout validate: environments/prod.yaml: no policies/config/prod.json in its "
                             "repository; the policy pack's rules were not checked\n")


@pytest.mark.parametrize(("config", "message"), [
    ('{"secret-rotation-max-interval": {"maximumDays": 0}}',
     "config.json: secret-rotation-max-interval.maximumDays: 0 is less than the minimum of 1"),
    ('{"secret-protected": "sometimes"}',
     "config.json: secret-protected.enforcementLevel: must be one of advisory, mandatory, remediate, disabled"),
    ("{not json", "config.json:1:2: not valid JSON"),
])
def test_a_bad_policy_config_is_a_usage_error(tmp_path, config, message):
    file = write(tmp_path, PROD)
    config_file = write(tmp_path, config, "config.json")
    result = run_cli("validate", str(file), "--policy-config", str(config_file))
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr


def test_a_missing_policy_config_is_a_usage_error():
    result = run_cli("validate", "environments/prod.yaml", "--policy-config", "missing.json")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith("secrets-layout validate: error: missing.json: no such file\n")


def test_every_days_with_schedule_is_reported_at_both_keys(tmp_path):
    text = declaration(VALID_SECRET.replace("every_days: 30", 'every_days: 30, schedule: "rate(10 days)"'))
    file = write(tmp_path, text)
    result = run_cli("validate", str(file))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{file}:10:55: secrets[0].rotation.every_days: give either every_days or schedule, not both; "
        "remove this or schedule:",
        f"{file}:10:69: secrets[0].rotation.schedule: give either every_days or schedule, not both; "
        "remove this or every_days:",
    ]


# --------------------------------------------------------------------------------------------
# The pre-commit hook
# --------------------------------------------------------------------------------------------

HOOK = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]


def test_the_hook_checks_the_policies_of_the_environment():
    assert HOOK["entry"] == "secrets-layout validate"  # validate's default: the environment's policy config


@pytest.mark.parametrize(("text", "code"), [(PROD, 0), (UNPROTECTED, 1)])
def test_the_hook_entry_on_a_staged_declaration(tmp_path, text, code):
    """What pre-commit runs: the entry with the staged declarations, in the repository's top."""
    repository = tmp_path / "repo"
    write(repository, text, "environments/prod.yaml")
    shutil.copytree(ROOT / "policies" / "config", repository / "policies" / "config")
    git(repository, "init", "--quiet")
    arguments = shlex.split(HOOK["entry"])[1:]
    result = run_cli(*arguments, "environments/prod.yaml", cwd=repository)
    assert result.returncode == code
    assert ("mandatory secret-protected" in result.stdout) == (code == 1)


# --------------------------------------------------------------------------------------------
# The resources judged are those the components make
# --------------------------------------------------------------------------------------------

def test_the_unknown_sentinel_is_pulumis():
    from pulumi.runtime import rpc

    from secrets_layout.findings.declared import UNKNOWN
    assert UNKNOWN == rpc.UNKNOWN


def _matches(simulated, declared, unknown):
    """Equal, with the declaration's unknowns standing for whatever the deployment computes."""
    if declared == unknown:
        return True
    if isinstance(simulated, dict) and isinstance(declared, dict):
        return simulated.keys() == declared.keys() and all(_matches(simulated[k], declared[k], unknown) for k in simulated)
    if isinstance(simulated, list) and isinstance(declared, list):
        return len(simulated) == len(declared) and all(_matches(a, b, unknown) for a, b in zip(simulated, declared))
    return simulated == declared


@pytest.mark.parametrize("environment", ["dev", "staging", "prod", "shared-services"])
def test_declared_resources_are_the_inputs_the_program_gives_the_pack(environment):
    """Secret, SecretPolicy and SecretRotation: same resources, same inputs and protect as the real
    program sends the pack on the mock engine (unknowns aside)."""
    from secrets_layout.declaration.loader import load_declaration
    from secrets_layout.findings.declared import UNKNOWN, declared_resources
    from secrets_layout.engine.programs import simulate_declaration
    from secrets_layout.engine.policy_check import analyzer_resources

    loaded = load_declaration(ROOT / "environments" / f"{environment}.yaml")
    inputs, _ = analyzer_resources(simulate_declaration(loaded))
    judged = {(found.resource.type, found.resource.name): found.resource for found in declared_resources(loaded.declaration)}
    simulated = {(resource.type, resource.name): resource for resource in inputs if resource.type in
                 {kind for kind, _ in judged}}
    assert set(simulated) == set(judged)
    for key, resource in simulated.items():
        assert _matches(resource.properties, judged[key].props, UNKNOWN), key
        assert resource.protect == judged[key].protect, key
