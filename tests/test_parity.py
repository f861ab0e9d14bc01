"""Rotation parity with the lower environments (issue 23 section 2): a rotation that never ran below
production runs for the first time in production. Which environments are lower is the declaration's own
`lower_environments:`, never a name."""

from __future__ import annotations

import pytest

from audit_support import ACCOUNT, account, cloudtrail, moto_server  # noqa: F401 - fixtures
from cli_support import run_main
from declaration_support import load
from secrets_layout.declaration.parity import counterpart_name, parity_findings, rotation_kind

API_ROTATION = ('{function: api-key-rotator, every_days: 30, adapter: {type: http-api-key, '
                'create_url: "https://keys.example/v1/keys", verify_url: "https://keys.example/v1/keys/self"}}')
EXISTING_FUNCTION = '{lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:rotator", every_days: 30}'


def environment(name: str, secrets: dict[str, str | None], lower: list[str] | None = None) -> str:
    """A declaration of `name` with one api-key secret per service; the value: its rotation, None: none."""
    text = (f'environment: {name}\nsecurity_account: "111111111111"\nprimary_region: us-east-1\n'
            f'accounts: {{{name}-app: "222222222222"}}\n')
    if lower is not None:
        text += f"lower_environments: [{', '.join(lower)}]\n"
    text += "secrets:\n" if secrets else "secrets: []\n"
    for service, rotation in secrets.items():
        text += (f"  - name: {name}/{service}/key\n    kind: api-key\n    value: {{from_config: {service}Key}}\n"
                 f"    readers: [{{account: {name}-app, roles: [App]}}]\n")
        text += (f"    rotation: {rotation}\n" if rotation else
                 '    rotation: {enabled: false, reason: the vendor has no API}\n')
    return text


def findings(prod: str, **lower: str | None) -> list[tuple[str, str]]:
    declared = load(prod).declaration
    below = {name: (load(text).declaration if text is not None else None) for name, text in lower.items()}
    return [(".".join(str(part) for part in finding.path), finding.message)
            for finding in parity_findings(declared, below)]


def test_the_counterpart_is_the_same_service_and_name_in_the_other_environment():
    assert counterpart_name("prod/orders/db", "staging") == "staging/orders/db"
    assert counterpart_name("prod/a/b/c", "dev") == "dev/a/b/c"


CASES = [
    ("the same rotation below", {"orders": API_ROTATION}, {"orders": API_ROTATION}, []),
    ("no counterpart below", {"orders": API_ROTATION}, {}, ["secrets.0.name"]),
    ("not rotated below", {"orders": API_ROTATION}, {"orders": None}, ["secrets.0.rotation"]),
    ("another adapter below", {"orders": API_ROTATION}, {"orders": EXISTING_FUNCTION}, ["secrets.0.rotation"]),
    ("not rotated here: a counterpart is enough", {"orders": None}, {"orders": API_ROTATION}, []),
    ("a secret only below is no finding here", {}, {"orders": API_ROTATION}, []),
]


@pytest.mark.parametrize("here, below, paths", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_secret_is_compared_with_its_counterpart_below(here, below, paths):
    found = findings(environment("prod", here, ["staging"]), staging=environment("staging", below))
    assert [path for path, _ in found] == paths


def test_the_messages_name_both_sides_and_the_fix():
    [(_, missing)] = findings(environment("prod", {"orders": API_ROTATION}, ["staging"]), staging=environment("staging", {}))
    assert missing == ("staging declares no staging/orders/key, so its rotation never runs there before it runs here; "
                       "declare it in staging too (or remove staging from lower_environments)")
    [(_, other)] = findings(environment("prod", {"orders": API_ROTATION}, ["staging"]),
                            staging=environment("staging", {"orders": EXISTING_FUNCTION}))
    assert other == ("rotates with function: api-key-rotator, adapter http-api-key here but with lambda_arn: rotator "
                     "in staging, so this rotation is never tried before it runs here; rotate staging/orders/key the "
                     "same way")


def test_a_lower_environment_not_declared_beside_is_one_finding():
    assert [path for path, _ in findings(environment("prod", {"orders": API_ROTATION}, ["staging"]), staging=None)] == [
        "lower_environments.0"]


def test_without_lower_environments_nothing_is_compared():
    assert findings(environment("prod", {"orders": API_ROTATION})) == []


@pytest.mark.parametrize("lower, message", [
    ("[prod]", "an environment is not lower than itself"),
    ("[staging, staging]", "each environment once"),
    ("[Staging]", "is not in the expected form — Another environment's slug"),
])
def test_lower_environments_are_other_environments_each_once(lower, message):
    from declaration_support import issues_of

    text = environment("prod", {"orders": API_ROTATION}).replace("secrets:", f"lower_environments: {lower}\nsecrets:")
    [issue] = issues_of(text)
    assert issue.path.startswith("lower_environments") and message in issue.message


def test_rotation_kind_names_what_differs():
    declared = load(environment("prod", {"a": API_ROTATION, "b": None})).declaration
    assert [rotation_kind(secret.rotation) for secret in declared.secrets] == [
        "function: api-key-rotator, adapter http-api-key", None]


# -- validate: advisory, at the field, beside the declarations it compares -----------------------------

def test_validate_reports_parity_at_the_line_and_stays_valid(tmp_path):
    environments = tmp_path / "environments"
    environments.mkdir()
    (tmp_path / ".git").mkdir()
    (environments / "prod.yaml").write_text(environment("prod", {"orders": API_ROTATION, "billing": API_ROTATION},
                                                        ["staging", "dev"]))
    (environments / "staging.yaml").write_text(environment("staging", {"orders": None, "billing": API_ROTATION}))
    result = run_main("validate", "--no-policy-config", str(environments / "prod.yaml"))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"{environments / 'prod.yaml'}: valid (2 secrets, 0 parameters)",
        f"{environments / 'prod.yaml'}:5:31: lower_environments[1]: advisory rotation-parity: no declaration of dev "
        "beside this one (environments/dev.yaml or environments/dev/), so no secret's rotation can be shown to run "
        "there first; declare it, or remove dev from lower_environments",
        f"{environments / 'prod.yaml'}:11:5: secrets[0].rotation: advisory rotation-parity: rotates here (function: "
        "api-key-rotator, adapter http-api-key) but staging/orders/key does not rotate, so this rotation runs for the "
        "first time here; declare the same rotation for staging/orders/key",
    ]


# -- preview: the differences a change makes, in the report's warnings ----------------------------------

def test_preview_base_shows_the_parity_differences_the_change_makes(tmp_path):
    import json

    from cli_support import ROOT
    from preview_support import git, repository_with

    unchanged_gap = {"billing": API_ROTATION}   # staging has no billing: a difference before and after
    repository, prod = repository_with(tmp_path, "prod", environment("prod", {**unchanged_gap, "orders": None},
                                                                    ["staging"]))
    (repository / "environments" / "staging.yaml").write_text(environment("staging", {"orders": None}))
    git(repository, "add", ".")
    git(repository, "commit", "--quiet", "-m", "staging")
    prod.write_text(environment("prod", {**unchanged_gap, "orders": API_ROTATION}, ["staging"]))
    git(repository, "commit", "--quiet", "-am", "rotate orders in prod")
    config = str(ROOT / "policies" / "config" / "prod.json")
    with_base = run_main("preview", "environments/prod.yaml", "--base", "HEAD~1", "--policy-config", config,
                         "--format", "json", cwd=repository)
    warnings = [w for w in json.loads(with_base.stdout)["warnings"] if w.startswith("rotation parity: ")]
    assert warnings == ["rotation parity: environments/prod.yaml:16: secrets[1].rotation: rotates here (function: "
                        "api-key-rotator, adapter http-api-key) but staging/orders/key does not rotate, so this "
                        "rotation runs for the first time here; declare the same rotation for staging/orders/key"]
    alone = run_main("preview", "environments/prod.yaml", "--policy-config", config, "--format", "json",
                     cwd=repository)
    assert len([w for w in json.loads(alone.stdout)["warnings"] if w.startswith("rotation parity: ")]) == 2


# -- audit: a rotation that has not succeeded below within its interval ---------------------------------

def test_audit_finds_rotations_untested_below(tmp_path, account, cloudtrail, capsys):
    """On moto server: prod's secrets with their staging counterparts in the same account, rotated 5 and 45
    days ago and never; staging rotates every 30 days (its declared interval decides)."""
    from datetime import timedelta

    from audit_support import DECLARATION, audit, healthy, write_declaration

    declaration, config = write_declaration(
        tmp_path, DECLARATION.replace("primary_region:", "lower_environments: [staging]\nprimary_region:", 1))
    staging = tmp_path / "staging.yaml"
    staging.write_text(DECLARATION.replace("prod", "staging"))
    healthy(account, declaration)
    account.deploy(staging)
    for name, days in (("rotated", 5), ("overdue", 45), ("edited-by-hand", 5), ("no-replica", 5)):
        account.set_rotation(f"staging/payments/{name}", every_days=30,
                             last_rotated=account.now - timedelta(days=days))
    account.set_rotation("staging/payments/never-rotated", every_days=30, last_rotated=None)

    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--endpoint-url",
                         account.endpoint_url, "--format", "json")
    import json

    report = json.loads(out)
    below = sorted((f["secret"], f["message"].split(" is ", 1)[1].split(",", 1)[0])
                   for f in report["findings"] if f["kind"] == "rotation-untested-below")
    assert code == 1
    assert below == [("prod/payments/never-rotated", "never rotated"),
                     ("prod/payments/overdue", f"last rotated {(account.now - timedelta(days=45)):%Y-%m-%d}")]


def test_audit_names_a_lower_environment_it_cannot_read(tmp_path, account, cloudtrail, capsys):
    import json

    from audit_support import DECLARATION, audit, healthy, write_declaration

    declaration, config = write_declaration(
        tmp_path, DECLARATION.replace("primary_region:", "lower_environments: [staging, dev]\nprimary_region:", 1))
    (tmp_path / "staging.yaml").write_text(  # every account of it, its rotation function's included
        DECLARATION.replace("prod", "staging").replace(ACCOUNT, "999999999999"))
    healthy(account, declaration)
    code, out, _ = audit(capsys, str(declaration), "--policy-config", str(config), "--endpoint-url",
                         account.endpoint_url, "--format", "json")
    notes = json.loads(out)["notes"]
    assert (f"staging keeps its secrets in account 999999999999, not {ACCOUNT}; audit it there to see whether its "
            "rotations succeed") in notes
    assert "dev is not declared beside this declaration; rotation below prod was not checked there" in notes
    assert not [f for f in json.loads(out)["findings"] if f["kind"] == "rotation-untested-below"]


def test_a_lower_environment_that_cannot_be_read_says_so():
    from secrets_layout.declaration.parity import Unreadable

    declared = load(environment("prod", {"orders": API_ROTATION}, ["staging"])).declaration
    [finding] = parity_findings(declared, {"staging": Unreadable("environments/staging.yaml")})
    assert finding.path == ("lower_environments", 0)
    assert finding.message == ("environments/staging.yaml is not a valid declaration, so parity with staging cannot be "
                               "checked; run `secrets-layout validate environments/staging.yaml` and fix it")
