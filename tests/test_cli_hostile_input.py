"""Issue 20, section 4: hostile input still found, through the command line. Each case: one line,
the documented exit code, bounded time, nothing overwritten, no credential echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_support import ROOT, assert_no_traceback, run_main

# --- a path longer than the file system allows -------------------------------------------------------

NAME_MAX = os.pathconf("/", "PC_NAME_MAX")
LONG = "a" * (NAME_MAX + 1)
"""One path component over the limit: open() and stat() fail with ENAMETOOLONG ("File name too long")."""
TOO_LONG = "a name longer than the file system allows (file name too long); shorten the path"
PROD = str(ROOT / "environments" / "prod.yaml")


@pytest.mark.parametrize("arguments", [
    pytest.param(("validate", LONG), id="validate"),
    pytest.param(("validate", f"{LONG}.yaml"), id="validate-yaml"),
    pytest.param(("validate", "--policy-config", LONG, PROD), id="validate-policy-config"),
    pytest.param(("preview", LONG), id="preview"),
    pytest.param(("preview", PROD, "--output", LONG), id="preview-output"),
    pytest.param(("preview", PROD, "--sarif-output", LONG), id="preview-sarif-output"),
    pytest.param(("preview", PROD, "--output", f"{LONG}/report.txt"), id="preview-output-in-a-long-folder"),
    pytest.param(("preview", PROD, "--policy-config", LONG), id="preview-policy-config"),
    pytest.param(("preview", PROD, "--program", LONG), id="preview-program"),
    pytest.param(("preview", PROD, "--cache", LONG), id="preview-cache"),
    pytest.param(("consumer-policy", "prod/database/credentials", "--account", "prod-app", "--file", LONG),
                 id="consumer-policy-file"),
    pytest.param(("audit", LONG), id="audit"),
    pytest.param(("rotate", LONG), id="rotate"),
    pytest.param(("init", "--stack", LONG), id="init-stack"),
    pytest.param(("init", "qa", "--from", LONG), id="init-from"),
])
def test_a_path_longer_than_the_file_system_allows_is_a_usage_error_naming_it(tmp_path, arguments):
    (tmp_path / "environments").mkdir()
    result = run_main(*arguments, cwd=tmp_path)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"secrets-layout {arguments[0]}: error: ")
    assert LONG in result.stderr and TOO_LONG in result.stderr, result.stderr
    assert [path.name for path in tmp_path.rglob("*")] == ["environments"]


# --- init over an environment folder -----------------------------------------------------------------

def _tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("options", [(), ("--force",)], ids=["plain", "force"])
def test_init_refuses_an_environment_that_is_a_folder_and_writes_nothing(tmp_path, options):
    """A file beside the folder would declare the environment twice (declaration/folder.declared_twice)."""
    (tmp_path / "environments" / "prod").mkdir(parents=True)
    (tmp_path / "environments" / "prod" / "_environment.yaml").write_text((ROOT / "environments" / "prod.yaml").read_text())
    before = _tree(tmp_path)
    result = run_main("init", "prod", *options, cwd=tmp_path)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        "secrets-layout init: error: environments/prod/ declares the environment prod already (an environment "
        "folder); environments/prod.yaml beside it would declare it twice: add to the folder, or choose another "
        "name; nothing was written\n"))
    assert _tree(tmp_path) == before


def test_init_beside_another_environments_folder_writes_the_new_environment(tmp_path):
    (tmp_path / "environments" / "prod").mkdir(parents=True)
    result = run_main("init", "qa", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "environments" / "qa.yaml").is_file()


# --- --output --force never replaces a file of the declaration --------------------------------------

def _folder_repository(folder: Path) -> None:
    """environments/prod/ (the example split into a folder) and its policy config: a preview would run."""
    from folder_support import split_declaration

    split_declaration(ROOT / "environments" / "prod.yaml", folder / "environments" / "prod")
    (folder / "policies" / "config").mkdir(parents=True)
    (folder / "policies" / "config" / "prod.json").write_bytes((ROOT / "policies" / "config" / "prod.json").read_bytes())


@pytest.mark.parametrize("target", ["_environment.yaml", "payments.yaml"])
@pytest.mark.parametrize("form", ["environments/prod", "environments/prod/"])
def test_preview_output_refuses_each_file_of_an_environment_folder_even_with_force(tmp_path, target, form):
    _folder_repository(tmp_path)
    before = _tree(tmp_path)
    result = run_main("preview", form, "--output", f"environments/prod/{target}", "--force", cwd=tmp_path)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        f"secrets-layout preview: error: environments/prod/{target}: is the file environments/prod/{target} of the "
        "declaration environments/prod itself; write the report to another file\n"))
    assert _tree(tmp_path) == before


def test_preview_sarif_output_refuses_a_team_file_too(tmp_path):
    _folder_repository(tmp_path)
    before = _tree(tmp_path)
    result = run_main("preview", "environments/prod", "--sarif-output", "environments/prod/payments.yaml", "--force",
                      cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert "is the file environments/prod/payments.yaml of the declaration environments/prod itself" in result.stderr
    assert _tree(tmp_path) == before


# --- names are escaped wherever they are printed ------------------------------------------------------

FORGED = "x\n::error title=forged::y"
"""A name that, printed raw, starts an output line GitHub Actions reads as a workflow command
(https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions; the runner
trims leading white space before it looks for `::`)."""


def assert_no_forged_line(text: str) -> None:
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")], text


def _forged_team_files(tmp_path: Path) -> Path:
    """environments/prod/ as a git repository: payments' team file renamed to a forging name, and at
    HEAD also a symbolic link with one (left out of the base, with a note); the link is gone from
    the working tree, whose team file rotates too rarely (a violation there)."""
    from preview_support import git

    repo = tmp_path / "repo"
    _folder_repository(repo)
    prod = repo / "environments" / "prod"
    (prod / "payments.yaml").rename(prod / f"{FORGED}.yaml")
    (prod / f"{FORGED}-link.yaml").symlink_to("orders.yaml")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "tests@example.invalid")
    git(repo, "config", "user.name", "tests")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "first")
    (prod / f"{FORGED}-link.yaml").unlink()
    team_file = prod / f"{FORGED}.yaml"
    team_file.write_text(team_file.read_text().replace("    every_days: 30\n", "    every_days: 400\n", 1)
                         if "    every_days: 30\n" in team_file.read_text()
                         else team_file.read_text().replace("  rotation:\n", "  rotation:\n    every_days: 400\n", 1))
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("form", ["text", "markdown", "sarif", "json"])
def test_a_team_file_name_cannot_forge_a_line_in_any_report(tmp_path, form):
    repo = _forged_team_files(tmp_path)
    result = run_main("preview", "environments/prod", "--base", "HEAD", "--format", form, cwd=repo)
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr
    assert_no_forged_line(result.stdout + result.stderr)
    escaped = FORGED.replace("\n", "\\n")
    if form == "text":
        assert (f"warning: environments/prod/{escaped}-link.yaml at HEAD is not a regular file (git mode 120000): "
                "left out") in result.stdout
        assert f"environments/prod/{escaped}.yaml:" in result.stdout
    if form == "markdown":
        table_rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
        assert all(line.endswith("|") for line in table_rows), table_rows
        # The link text escaped, the target percent-encoded (RFC 3986), so neither breaks the table.
        target = "environments/prod/x%0A%3A%3Aerror%20title%3Dforged%3A%3Ay.yaml"
        shown = escaped.replace("\\", "\\\\")  # the backslash of the escape, itself escaped for markdown
        assert f"[environments/prod/{shown}.yaml:" in result.stdout and f"]({target}#L" in result.stdout
    if form == "sarif":
        import json

        uris = {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for result in json.loads(result.stdout)["runs"][0]["results"]}
        assert uris == {"environments/prod/x%0A%3A%3Aerror%20title%3Dforged%3A%3Ay.yaml"}


SPACED = "legacy ::error title=forged::y"
"""A name a program of one's own may give a resource: after a space, so a report that wraps its lines
at the terminal's width (preview's text) could start a line with it."""


def _report_naming(name: str):
    from decimal import Decimal

    from secrets_layout.declaration.cost import CostEstimate, CostItem
    from secrets_layout.preview import PreviewReport, Violation

    violation = Violation("secret-name-convention", "mandatory", "urn:pulumi:dev::p::aws:secretsmanager/secret:Secret::x",
                          f'Secret name "{name}" does not follow <environment>/<service>/<name>.', "infra.py", 3, 1)
    return PreviewReport(environment="dev", file="environments/dev.yaml", policy_config="policies/config/dev.json",
                         resources=[], violations=[violation], cost=CostEstimate(
                             (CostItem(f"secret {name} (infra.py:3, not in the declaration)", Decimal("0.40")),)))


def test_a_program_resource_named_with_a_line_break_is_one_escaped_line_in_the_text_reports_cost():
    from secrets_layout.reports import preview_text

    text = preview_text.render(_report_naming(FORGED), width=160)
    assert "secret x\\n::error title=forged::y (infra.py:3, not in the declaration)" in text


@pytest.mark.parametrize("width", range(40, 201))
def test_a_text_report_wrapped_at_any_width_starts_no_line_with_a_workflow_command(width):
    from secrets_layout.reports import preview_text

    text = preview_text.render(_report_naming(SPACED), width=width)
    assert_no_forged_line(text)
    # Only where a line would have started with `::` is its first colon escaped (as printable escapes).
    assert all(line.lstrip().startswith("\\u003a:error") for line in text.splitlines() if "\\u003a" in line)
    if width == 160:  # a CI log's width: the message in one line, as written
        assert f'Secret name "{SPACED}" does not follow' in text


@pytest.mark.parametrize("arguments", [
    pytest.param(("preview", PROD, "--base", f"HEAD{FORGED}"), id="preview-base"),
    pytest.param(("preview", PROD, "--output", FORGED, "--sarif-output", FORGED), id="preview-output-twice"),
    pytest.param(("preview", PROD, "--policy-config", FORGED), id="preview-policy-config"),
    pytest.param(("preview", PROD, "--program", FORGED), id="preview-program"),
    pytest.param(("validate", FORGED), id="validate"),
    pytest.param(("consumer-policy", f"prod/{FORGED}", "--account", "prod-app", "--file", PROD), id="consumer-policy"),
    pytest.param(("consumer-policy", "prod/database/credentials", "--account", FORGED, "--file", PROD),
                 id="consumer-policy-account"),
    pytest.param(("init", FORGED), id="init"),
    pytest.param(("init", "qa", "--account", f"prod-app={FORGED}"), id="init-account"),
    pytest.param(("init", "qa", "--region", FORGED), id="init-region"),
    pytest.param(("init", "--stack", FORGED), id="init-stack"),
    pytest.param(("audit", FORGED), id="audit"),
    pytest.param(("rotate", FORGED), id="rotate"),
    pytest.param(("rotate", PROD, "--secret", FORGED), id="rotate-secret"),
])
def test_a_name_given_on_the_command_line_is_one_escaped_line(tmp_path, arguments):
    (tmp_path / "environments").mkdir()
    result = run_main(*arguments, cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode in (1, 2) and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "x\\n::error title=forged::y" in result.stderr
    assert [path.name for path in tmp_path.rglob("*")] == ["environments"]


# --- Pulumi.<stack>.yaml is read as Pulumi reads it (YAML 1.2) ------------------------------------------

PLAINTEXT = ("Pulumi.prod.yaml:{line}:32: config[\"secrets-layout:stripeApiKey\"]: the from_config value stripeApiKey is "
             "stored in plain text, so the credential is in git; remove the line, rotate the credential, and set it "
             "with pulumi config set --secret --stack prod stripeApiKey\n")


@pytest.mark.parametrize("other_value", [
    pytest.param("1:30", id="base-60"), pytest.param("0777", id="leading-zero"), pytest.param(".nan", id="nan"),
    pytest.param("1" * 40, id="40-digits"), pytest.param("1_000", id="underscore"), pytest.param("no", id="no"),
])
def test_a_yaml_1_1_number_elsewhere_in_the_stack_file_keeps_the_plaintext_check(tmp_path, other_value):
    """Pulumi reads the stack file as YAML 1.2 (go-yaml v3), where these are plain text, and a config
    value is the text written; read as YAML 1.1 they were refused, and the whole check skipped."""
    (tmp_path / "Pulumi.yaml").write_text("name: secrets-layout\nruntime: python\n")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "prod.yaml").write_bytes((ROOT / "environments" / "prod.yaml").read_bytes())
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(f"config:\n  aws:region: us-east-1\n  secrets-layout:window: {other_value}\n"
                     "  secrets-layout:stripeApiKey: sk_live_abcdefghijklmnopqrstuvwx\n")
    result = run_main("validate", "environments/prod.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, PLAINTEXT.format(line=4))

    stack.write_text(f"config:\n  aws:region: us-east-1\n  secrets-layout:window: {other_value}\n"
                     "  secrets-layout:stripeApiKey:\n    secure: v1:AAAABBBB\n")
    result = run_main("validate", "environments/prod.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "environments/prod.yaml: valid (5 secrets, 3 parameters)\n")


@pytest.mark.parametrize(("written", "environment", "account"), [
    pytest.param("no", "no", "111111111111", id="no-is-text"),
    pytest.param("qa", "qa", "011111111111", id="account-with-a-leading-zero"),
])
def test_init_stack_reads_the_answers_as_pulumi_does(tmp_path, written, environment, account):
    """YAML 1.1 read `no` as false (the environment "False") and 011111111111 as an octal number."""
    (tmp_path / "Pulumi.qa.yaml").write_text(
        f"config:\n  secrets-layout:environment: {written}\n  secrets-layout:securityAccount: {account}\n"
        "  aws:region: us-east-1\n  secrets-layout:organizationId: none\n")
    result = run_main("init", "--stack", "qa", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    declaration = (tmp_path / "environments" / f"{environment}.yaml").read_text()
    assert f"environment: {environment}\n" in declaration and f'security_account: "{account}"' in declaration


# --- preview --program that exits or is not Python ---------------------------------------------------

DEV = str(ROOT / "environments" / "dev.yaml")


@pytest.mark.slow
@pytest.mark.parametrize(("body", "line", "problem"), [
    pytest.param("import sys\nsys.exit(3)\n", 2,
                 "the program called sys.exit(3); a Pulumi program ends by returning: remove the call", id="sys-exit"),
    pytest.param("import sys\n\nsys.exit('bye')\n", 3,
                 "the program called sys.exit('bye'); a Pulumi program ends by returning: remove the call",
                 id="sys-exit-message"),
    pytest.param("raise SystemExit(0)\n", 1,
                 "the program called sys.exit(0); a Pulumi program ends by returning: remove the call", id="exit-0"),
    pytest.param("import os\nos._exit(4)\n", 2,
                 "the program called os._exit(4), which ends the process at once; remove the call", id="os-exit"),
    pytest.param("import pulumi\ndef (:\n", 2, "the program is not valid Python (invalid syntax); fix it",
                 id="syntax-error"),
    pytest.param("x = 1\nraise ValueError('no such secret:\\n::error::x')\n", 2,
                 "the program raised ValueError: no such secret:\\n::error::x", id="exception"),
])
def test_a_program_that_exits_or_fails_is_one_line_at_its_file_and_line(tmp_path, body, line, problem):
    """The program runs in a simulation worker (engine/workers.py), or in this process on one CPU:
    either way its exit must not become the preview's (an undocumented exit code, or none at all)."""
    from cli_support import run_cli

    program = tmp_path / "infra.py"
    program.write_text(body)
    result = run_cli("preview", DEV, "--program", str(program), timeout=300)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout preview: error: {program}:{line}: {problem}\n"


@pytest.mark.slow
@pytest.mark.parametrize(("body", "problem"), [
    pytest.param("import os\nos._exit(4)\n", "the program called os._exit(4), which ends the process at once", id="os-exit"),
    pytest.param("import sys\nsys.exit(3)\n", "the program called sys.exit(3)", id="sys-exit"),
])
def test_a_program_that_exits_in_the_previews_own_process_leaves_it_running(tmp_path, body, problem):
    """With one CPU the simulations run in the preview's process (SimulationRunner's InProcess): an
    os._exit there would have ended the preview, and pytest with it."""
    from secrets_layout.preview import PreviewUsageError, run_preview

    program = tmp_path / "infra.py"
    program.write_text(body)
    with pytest.raises(PreviewUsageError) as raised:
        run_preview(DEV, program=program, parallel=False)
    assert str(raised.value).startswith(f"{program}:2: {problem}")


@pytest.mark.slow
def test_a_simulation_process_that_is_killed_is_one_line_and_exit_1(tmp_path):
    """As a policy pack that crashes: nothing was checked, so the preview fails, in one line."""
    from cli_support import run_cli

    program = tmp_path / "infra.py"
    program.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    result = run_cli("preview", DEV, "--program", str(program), timeout=300)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("secrets-layout preview: error: the simulation's worker process ended without an answer "
                             "(exit code -9)\n")


# --- a policy config: bounded time, no credential echoed ---------------------------------------------

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def _config(tmp_path: Path, document: object) -> str:
    import json

    file = tmp_path / "config.json"
    file.write_text(json.dumps(document, separators=(",", ":")))
    return str(file)


BOUNDED = 30
"""Seconds that tell "bounded" from what these inputs took before (75 s to many minutes), with room for
a machine busy with other work. The 5-second target of issue 20 is measured, not asserted:
benchmarks/hostile_input.py prints each case's time against it."""


@pytest.mark.parametrize("command", ["validate", "preview"])
def test_a_config_of_15000_objects_in_a_list_is_refused_in_bounded_time(tmp_path, command):
    """jsonschema's uniqueItems compares every pair of objects (jsonschema/_utils.py `uniq`, which
    falls back to pairwise `equal` when the items cannot be sorted): 200 KiB of them took minutes.
    The types are checked first, and a list is bounded before its items are compared."""
    import time

    file = _config(tmp_path, {"secret-required-tags": {"requiredTags": [{"tag": index} for index in range(15_000)]}})
    assert 150 * 1024 < os.path.getsize(file) <= 256 * 1024
    started = time.monotonic()
    result = run_main(command, "--policy-config", file, PROD)
    assert time.monotonic() - started < BOUNDED  # about 0.1 s of checking (before: minutes)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"secrets-layout {command}: error: invalid policy config:\n"
        f"  {file}: secret-required-tags.requiredTags: 15000 items; a policy setting holds at most 1000\n")


def test_a_list_of_objects_within_the_bound_is_refused_by_type_in_a_few_lines(tmp_path):
    file = _config(tmp_path, {"secret-required-tags": {"requiredTags": [{"tag": index} for index in range(900)]}})
    result = run_main("validate", "--policy-config", file, PROD)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[1:] == [
        f"  {file}: secret-required-tags.requiredTags[0]: {{'tag': 0}} is not of type 'string' — Tag keys every "
        "secret must carry.",
        f"  {file}: secret-required-tags.requiredTags[1]: {{'tag': 1}} is not of type 'string' — Tag keys every "
        "secret must carry.",
        f"  {file}: secret-required-tags.requiredTags[2]: {{'tag': 2}} is not of type 'string' — Tag keys every "
        "secret must carry.",
        f"  {file}: secret-required-tags.requiredTags: more problems; fix these first",
    ]


@pytest.mark.parametrize(("document", "shown"), [
    pytest.param({AWS_KEY: "mandatory"}, "<credential>: no policy of the pack has this name", id="policy-name"),
    pytest.param({"secret-protected": {GITHUB_TOKEN: 1}}, "secret-protected.<credential>: secret-protected has no setting",
                 id="setting-name"),
    pytest.param({"secret-rotation-max-interval": {"maximumDays": AWS_KEY}},
                 "secret-rotation-max-interval.maximumDays: '<credential>' is not of type 'integer'", id="wrong-type"),
    pytest.param({"secret-name-convention": {"environment": GITHUB_TOKEN}},
                 "secret-name-convention.environment: '<credential>' does not match", id="pattern"),
    pytest.param({"secret-required-tags": {"requiredTags": ["owner", AWS_KEY]}},
                 "secret-required-tags.requiredTags[1]: looks like a credential (AWS Access Key); a policy config is "
                 "committed to git and its values are printed in reports: remove it", id="required-tag-name"),
    pytest.param({"secret-required-tags": {"requiredTags": ["owner"]}, "all": {"enforcementLevel": GITHUB_TOKEN}},
                 "all.enforcementLevel: must be one of advisory", id="level"),
])
@pytest.mark.parametrize(("command", "form"), [("validate", "text"), ("validate", "json"), ("preview", "markdown"),
                                               ("preview", "sarif")])
def test_a_credential_in_a_policy_config_is_never_echoed(tmp_path, document, shown, command, form):
    file = _config(tmp_path, document)
    result = run_main(command, "--policy-config", file, "--format", form, PROD)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert AWS_KEY not in result.stderr and GITHUB_TOKEN not in result.stderr
    assert f"{file}: {shown}" in result.stderr, result.stderr


def test_ordinary_required_tags_pass(tmp_path):
    config = __import__("json").loads((ROOT / "policies" / "config" / "prod.json").read_text())
    config["secret-required-tags"]["requiredTags"] = ["owner", "environment", "cost-center"]
    result = run_main("validate", "--policy-config", _config(tmp_path, config), PROD)
    assert result.returncode == 1 and "secret-required-tags" in result.stdout  # cost-center is missing: found, named
    assert "cost-center" in result.stdout


# --- user:password in a URL of the declaration -------------------------------------------------------

PASSWORD = "hunter2-correct-horse"


@pytest.mark.parametrize("form", ["text", "json"])
@pytest.mark.parametrize("endpoint", [f"https://alerts:{PASSWORD}@hooks.example.com/secrets",
                                      f"https://{PASSWORD}@hooks.example.com/secrets"])
def test_user_and_password_in_an_alert_subscription_url_are_refused_without_echo(tmp_path, endpoint, form):
    """SNS accepts https://user:password@host endpoints (basic authentication of the delivery:
    https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html); in a
    declaration that password is in git. Adapter endpoints are refused so already."""
    from declaration_support import PROD_ALERTS

    file = tmp_path / "prod.yaml"
    file.write_text((ROOT / "environments" / "prod.yaml").read_text()
                    + PROD_ALERTS.replace("{protocol: email, endpoint: secops@example.com}",
                                          f"{{protocol: https, endpoint: \"{endpoint}\"}}"))
    result = run_main("validate", "--format", form, str(file))
    assert_no_traceback(result)
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr
    lines = len((ROOT / "environments" / "prod.yaml").read_text().splitlines())
    expected = (f"{file}:{lines + 5}:9: alerts.topic.subscriptions[0]: an https endpoint must not carry user:password@ "
                "(it would be in git, and in the subscription for anyone who may list it): authenticate the endpoint "
                "another way, or subscribe it outside the declaration and give the topic as topic_arn")
    if form == "text":
        assert result.stdout == expected + "\n"
    else:
        assert expected.split(": ", 2)[2] in result.stdout


def test_an_alert_subscription_url_without_user_information_passes(tmp_path):
    from declaration_support import PROD_ALERTS

    file = tmp_path / "prod.yaml"
    file.write_text((ROOT / "environments" / "prod.yaml").read_text()
                    + PROD_ALERTS.replace("{protocol: email, endpoint: secops@example.com}",
                                          '{protocol: https, endpoint: "https://hooks.example.com/a@b"}'))
    result = run_main("validate", str(file))
    assert (result.returncode, result.stdout) == (0, f"{file}: valid (5 secrets, 3 parameters)\n")


@pytest.mark.parametrize(("replaced", "replacement", "path"), [
    pytest.param("value: {from_config: appApiKey}",
                 f'value: {{generate: {{key: token}}, template: {{url: "https://admin:{PASSWORD}@db.example.com"}}}}\n'
                 "    format: json", "secrets[0].value.template.url", id="template-value"),
    pytest.param("kind: api-key", f'kind: api-key\n    description: "reads https://admin:{PASSWORD}@db.example.com"',
                 "secrets[0].description", id="description"),
])
def test_user_and_password_in_any_other_url_of_the_declaration_are_refused(tmp_path, replaced, replacement, path):
    """The other free-text fields go through the credential scan (its BasicAuth detector)."""
    from declaration_support import VALID_SECRET, declaration

    file = tmp_path / "prod.yaml"
    file.write_text(declaration(VALID_SECRET.replace(replaced, replacement)))
    result = run_main("validate", str(file))
    assert result.returncode == 1
    assert PASSWORD not in result.stdout
    assert f"{path}: this looks like a credential (" in result.stdout


# --- validate of a megabyte value or line ---------------------------------------------------------------

def _megabyte(pattern: str, room: int) -> str:
    import random
    import string

    size = 1024 * 1024 - room
    if pattern == "random":
        generator = random.Random(20)
        return "".join(generator.choice(string.ascii_letters + string.digits) for _ in range(size))
    return (pattern * (size // len(pattern) + 1))[:size]


@pytest.mark.parametrize("pattern", [
    pytest.param("random", id="random-letters-and-digits"),  # before: 75 s (the keyword plugin, per position)
    pytest.param("a://b ", id="url-fragments"),  # before: over 120 s (the npm plugin's //.+/:_authToken)
    pytest.param("password= ", id="keywords"),
    pytest.param("AKIAIOSFODNN7EXAMPL ", id="near-keys"),
])
@pytest.mark.parametrize("where", ["description", "template-value"])
def test_validate_of_a_megabyte_value_is_bounded_in_time(tmp_path, pattern, where):
    """The credential scan reads a long value in overlapping windows (detect-secrets' plugins are
    super-linear in the length of a line); the bound is generous for a busy machine, the time about 2 s."""
    import time

    from declaration_support import VALID_SECRET, declaration

    text = declaration(VALID_SECRET)
    value = _megabyte(pattern, room=len(text) + 200)
    if where == "description":
        text = text.replace("kind: api-key", f'kind: api-key\n    description: "{value}"')
    else:
        text = text.replace("value: {from_config: appApiKey}",
                            f'value: {{generate: {{key: password}}, template: {{note: "{value}"}}}}\n    format: json')
    file = tmp_path / "prod.yaml"
    file.write_text(text)
    assert os.path.getsize(file) <= 1024 * 1024
    started = time.monotonic()
    result = run_main("validate", str(file))
    assert time.monotonic() - started < BOUNDED
    assert_no_traceback(result)
    assert result.returncode == 1 and 1 <= len(result.stdout.splitlines()) <= 3, result.stdout[:2000]


def test_a_credential_anywhere_in_a_megabyte_value_is_found(tmp_path):
    """Windows overlap, so a key that straddles two of them is still read whole by one."""
    from declaration_support import VALID_SECRET, declaration
    from secrets_layout.declaration.credentials import SCAN_WINDOW, SCAN_WINDOW_STEP

    text = declaration(VALID_SECRET)
    filler = _megabyte("lorem ipsum ", room=len(text) + 200)
    for at in (0, SCAN_WINDOW_STEP - 10, SCAN_WINDOW - 10, len(filler) // 2, len(filler) - len(AWS_KEY)):
        value = filler[:at] + AWS_KEY + filler[at + len(AWS_KEY):]
        file = tmp_path / "prod.yaml"
        file.write_text(text.replace("kind: api-key", f'kind: api-key\n    description: "{value}"'))
        result = run_main("validate", str(file))
        assert "secrets[0].description: this looks like a credential (AWS Access Key)" in result.stdout, at
        assert AWS_KEY not in result.stdout


def test_validate_of_a_megabyte_line_of_values_is_bounded_in_time(tmp_path):
    """One line, a flow mapping of 31,000 tags with random 24-character values: each is scanned (and
    each is a finding: a line per problem); about 2.6 s."""
    import random
    import string
    import time

    from declaration_support import VALID_SECRET, declaration

    text = declaration(VALID_SECRET)
    generator = random.Random(3)
    items, size = [], 0
    while size < 1024 * 1024 - len(text) - 200:
        items.append(f"k{len(items)}: {''.join(generator.choice(string.ascii_letters + string.digits) for _ in range(24))}")
        size += len(items[-1]) + 2
    file = tmp_path / "prod.yaml"
    file.write_text(text.replace("kind: api-key", "kind: api-key\n    tags: {" + ", ".join(items[:-1]) + "}"))
    started = time.monotonic()
    result = run_main("validate", str(file))
    assert time.monotonic() - started < BOUNDED
    assert_no_traceback(result)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(f"{file}:9:")
