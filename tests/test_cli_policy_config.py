"""Issue 11, command line: a bad `preview --policy-config` is a usage error (exit 2) naming the file,
the key and the fix, checked before anything runs; never a traceback, never silently ignored.

The format is Pulumi's policy pack config (https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/):
policy name -> enforcement level or {"enforcementLevel": ..., setting: value}; `all` sets every level.
The settings and their limits are the pack's own schemas (policies.catalog.POLICIES).
"""

from __future__ import annotations

import json

import pytest

from cli_support import ROOT, assert_no_traceback, run_main
from secrets_layout.policies.catalog import BY_NAME

DECLARATION = str(ROOT / "environments" / "dev.yaml")
HEADER = "secrets-layout preview: error: invalid policy config:\n  "


def preview_with(tmp_path, content: bytes | str):
    file = tmp_path / "config.json"
    file.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run_main("preview", DECLARATION, "--policy-config", str(file))
    assert_no_traceback(result)
    return result, str(file)


BAD_CONFIGS = [
    pytest.param("mandatory", "{file}:1:1: not valid JSON (Expecting value); fix the JSON at this position", id="not-json"),
    pytest.param("[1, 2]", '{file}: the policy config must be a JSON object of policy name -> settings, e.g. '
                 '{{"secret-recovery-window": {{"enforcementLevel": "mandatory", "minimumDays": 7}}}}', id="a-list"),
    pytest.param('{"secret-recovery-window": {"minimumDays": "seven"}}',
                 "{file}: secret-recovery-window.minimumDays: 'seven' is not of type 'integer' — "
                 "Shortest recovery window accepted, in days (7-30).", id="wrong-type"),
    pytest.param('{"secret-recovery-window": 7}',
                 '{file}: secret-recovery-window: must be an enforcement level (advisory, mandatory, remediate, disabled) '
                 'or an object such as {{"enforcementLevel": "mandatory"}}', id="a-number-for-a-policy"),
    pytest.param('{"secret-protected": "strict"}',
                 "{file}: secret-protected.enforcementLevel: must be one of advisory, mandatory, remediate, disabled",
                 id="bad-enforcement-level"),
    pytest.param('{"all": {"enforcementLevel": "manditory"}}',
                 "{file}: all.enforcementLevel: must be one of advisory, mandatory, remediate, disabled",
                 id="bad-level-for-all"),
    pytest.param('{"secret-rotation-max-interval": {"maximumDays": NaN}}', "{file}: NaN is not a JSON number; write a number",
                 id="nan"),
    pytest.param('{"secret-rotation-max-interval": {"maximumDays": Infinity}}',
                 "{file}: Infinity is not a JSON number; write a number", id="infinity"),
    pytest.param('{"secret-recovery-window": {"minimumDays": -7}}',
                 "{file}: secret-recovery-window.minimumDays: -7 is less than the minimum of 7 — "
                 "Shortest recovery window accepted, in days (7-30).", id="negative"),
    pytest.param('{"secret-policy-allowed-accounts": {"allowedAccounts": [111111111111]}}',
                 "{file}: secret-policy-allowed-accounts.allowedAccounts[0]: 111111111111 is not of type 'string' — "
                 "12-digit AWS account IDs that may be granted access: the environment's accounts and the security account.",
                 id="unquoted-account"),
    pytest.param("{}".encode("utf-16"), "{file}:1: not UTF-8 text (UTF-16?); save the file as UTF-8", id="utf-16"),
    pytest.param("[" * 100_000 + "]" * 100_000,
                 "{file}: nested too deeply to read; a policy config is an object of policy name -> settings",
                 id="deep-nesting"),
    pytest.param('{"secret-protected": ' + '{"a": ' * 20 + "1" + "}" * 20 + "}",
                 "{file}: nested deeper than 16 levels; no policy setting is that deep", id="nesting-within-the-parser"),
    pytest.param('{"secret-protected": "mandatory", "secret-protected": "disabled"}',
                 "{file}: secret-protected: given twice (JSON keeps only the last silently); remove one", id="duplicate-key"),
    pytest.param('{"secret-recovery-windw": {"minimumDays": 30}}',
                 "{file}: secret-recovery-windw: no policy of the pack has this name, so this setting would do nothing; "
                 "did you mean 'secret-recovery-window'? the policies are: all, " + ", ".join(sorted(BY_NAME)),
                 id="unknown-policy-name"),
    pytest.param('{"secret-rotation-max-interval": {"maximumDay": 30}}',
                 "{file}: secret-rotation-max-interval.maximumDay: secret-rotation-max-interval has no setting of this "
                 "name, so it would do nothing; did you mean 'maximumDays'? its settings are: enforcementLevel, maximumDays",
                 id="unknown-setting"),
]


@pytest.mark.parametrize(("content", "problem"), BAD_CONFIGS)
def test_bad_policy_configs_are_usage_errors(tmp_path, content, problem):
    result, file = preview_with(tmp_path, content)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == HEADER + problem.format(file=file) + "\n"


def test_every_problem_is_listed(tmp_path):
    content = json.dumps({"secret-protected": "strict", "secret-recovery-window": {"minimumDays": 40}})
    result, file = preview_with(tmp_path, content)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        f"  {file}: secret-protected.enforcementLevel: must be one of advisory, mandatory, remediate, disabled",
        f"  {file}: secret-recovery-window.minimumDays: 40 is greater than the maximum of 30 — "
        "Shortest recovery window accepted, in days (7-30).",
    ]


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "shared-services"])
def test_the_repository_configs_pass(name):
    from secrets_layout.engine.policy_config import check_policy_config

    assert check_policy_config(ROOT / "policies" / "config" / f"{name}.json")


def test_a_bad_default_policy_config_is_a_usage_error_too(tmp_path):
    """Without --policy-config the preview reads policies/config/<environment>.json of the declaration's
    repository: checked the same way."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text((ROOT / "environments" / "dev.yaml").read_text())
    (tmp_path / "policies" / "config").mkdir(parents=True)
    (tmp_path / "policies" / "config" / "dev.json").write_text('{"secret-protected": "strict"}')
    result = run_main("preview", str(tmp_path / "environments" / "dev.yaml"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"{HEADER}{tmp_path.resolve()}/policies/config/dev.json: secret-protected.enforcementLevel: "
                             "must be one of advisory, mandatory, remediate, disabled\n")


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_validate_reconciles_a_config_as_the_running_pack_does(name):
    """`validate` reconciles with the pack's catalog (policy_config.reconciled_config), the preview with what
    the running pack says of itself (GetAnalyzerInfo): the same levels and settings either way."""
    from secrets_layout.engine.analyzer_client import AnalyzerClient
    from secrets_layout.engine.policy_config import reconciled_config

    file = ROOT / "policies" / "config" / f"{name}.json"
    with AnalyzerClient() as client:
        assert reconciled_config(file) == client.configure(config_file=file)


def test_reconciling_a_config_the_check_refuses_raises_what_the_check_found(tmp_path):
    from secrets_layout.engine.policy_config import PolicyConfigProblem, reconciled_config

    file = tmp_path / "config.json"
    file.write_text('{"secret-protected": "strict"}')
    with pytest.raises(PolicyConfigProblem) as refused:
        reconciled_config(file)
    assert refused.value.problems == [
        f"{file}: secret-protected.enforcementLevel: must be one of advisory, mandatory, remediate, disabled"]
