"""Each problem is reported once, where it is written (issue 21, section 4).

- A pack rule broken by a value under `defaults:` is one violation at that line, naming every secret that
  inherits it, in `validate --policy-config` and in `preview` (text, JSON, SARIF), not one per secret;
  the same rule broken by values the secrets write themselves stays one violation per secret.
- An account `readers:` names but `accounts:` does not declare is one error, at its first use, naming the
  other secrets that use it.
"""

from __future__ import annotations

import json

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli, run_main
from preview_support import PROD, line_of

CONFIG = str(ROOT / "policies" / "config" / "prod.json")
RARE_DEFAULT = PROD.replace("rotation: {every_days: 30}", "rotation: {every_days: 120}", 1)
"""defaults.rotation.every_days 120 (maximumDays 90 in prod.json): inherited by prod/database/credentials
and prod/payments/stripe-api-key (the others write their own interval or schedule)."""
RARE_EACH = PROD.replace("      window: 3h\n", "      window: 3h\n      every_days: 120\n", 1).replace(
    "      every_days: 30\n      adapter:", "      every_days: 120\n      adapter:", 1)
"""Two secrets (prod/database/credentials, prod/notifications/sendgrid-api-key) that write `every_days: 120`."""
INHERITED_BY = "inherited by 2 secrets: prod/database/credentials, prod/payments/stripe-api-key"
TWO_UNKNOWN_USES = PROD.replace("readers: [{account: prod-app, roles: [PaymentsRole]}]",
                                "readers: [{account: prod-ap, roles: [PaymentsRole]}]").replace(
    "readers: [{account: prod-app, roles: [NotificationsRole]}]", "readers: [{account: prod-ap, roles: [NotificationsRole]}]")
ONE_UNKNOWN_USE = PROD.replace("readers: [{account: prod-app, roles: [PaymentsRole]}]",
                               "readers: [{account: prod-ap, roles: [PaymentsRole]}]")


def validated(tmp_path, text: str, *options: str):
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    result = run_main("validate", str(file), "--format", "json", *options)
    return json.loads(result.stdout)["errors"]


def test_validate_reports_a_defaults_line_once_for_every_secret_inheriting_it(tmp_path):
    errors = validated(tmp_path, RARE_DEFAULT, "--policy-config", CONFIG)
    interval = [error for error in errors if error.get("policy") == "secret-rotation-max-interval"]
    assert [(error["line"], error["path"]) for error in interval] == [
        (line_of(RARE_DEFAULT, "rotation: {every_days: 120}"), "defaults.rotation.every_days")]
    assert f"In the declaration (defaults.rotation.every_days, {INHERITED_BY}): set `every_days:` to 90 or less." \
        in interval[0]["message"]


def test_validate_reports_a_value_each_secret_writes_once_per_secret(tmp_path):
    errors = validated(tmp_path, RARE_EACH, "--policy-config", CONFIG)
    interval = [error for error in errors if error.get("policy") == "secret-rotation-max-interval"]
    assert sorted(error["path"] for error in interval) == ["secrets[0].rotation.every_days", "secrets[3].rotation.every_days"]
    assert not any("inherited by" in error["message"] for error in interval)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(ONE_UNKNOWN_USE, "account 'prod-ap' is not in accounts: (prod-app, prod-data); add it there or fix "
                                  "the name", id="one use"),
    pytest.param(TWO_UNKNOWN_USES, "account 'prod-ap' is not in accounts: (prod-app, prod-data); add it there or fix "
                                   "the name (also named by the readers of prod/notifications/sendgrid-api-key)",
                 id="two uses"),
])
def test_an_unknown_reader_account_is_reported_once_at_its_first_use(tmp_path, text, expected):
    errors = validated(tmp_path, text)
    assert [(error["line"], error["path"], error["message"]) for error in errors] == [
        (line_of(text, "{account: prod-ap,"), "secrets[2].readers[0].account", expected)]


@pytest.mark.slow
def test_preview_reports_a_defaults_line_once_in_every_format(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(RARE_DEFAULT)
    line = line_of(RARE_DEFAULT, "rotation: {every_days: 120}")
    result = run_cli("preview", str(file), "--policy-config", CONFIG, "--format", "json")
    assert_no_traceback(result)
    interval = [violation for violation in json.loads(result.stdout)["violations"]
                if violation["policy"] == "secret-rotation-max-interval"]
    assert [(violation["line"], violation["inherited_by"]) for violation in interval] == [
        (line, ["prod/database/credentials", "prod/payments/stripe-api-key"])]
    assert INHERITED_BY in interval[0]["message"]
    text = run_cli("preview", str(file), "--policy-config", CONFIG).stdout
    assert text.count("secret-rotation-max-interval") == 1
    sarif = json.loads(run_cli("preview", str(file), "--policy-config", CONFIG, "--format", "sarif").stdout)
    lines = [result["locations"][0]["physicalLocation"]["region"]["startLine"]
             for result in sarif["runs"][0]["results"] if result["ruleId"] == "secret-rotation-max-interval"]
    assert lines == [line]
