"""Issue 21's "done when": a platform team's whole path, in a repository of its own, through secrets-layout
installed with the README's own install line.

    install    README.md's `pip install "secrets-layout[full] @ git+<this repository's URL>"`, the URL a
               local git repository of this checkout, into the team repository's .venv
    init       the environment, the Pulumi project, the policy pack
    edit       a secret in a team's file of the environment folder
    validate   with the pack's rules (a broken rule first, then fixed)
    hook       the pre-commit hook on the staged team file, as pre-commit runs it
    preview    --base main --format markdown: the pull request's comment
    deploy     the generated program on the mock engine with the .venv's python, and the generated pack
               started as the Pulumi CLI starts it, with the python its PulumiPolicy.yaml names

The venv is a stand-in for `python3 -m venv .venv`: one without pip whose dependencies are this test
environment's (tests/install_support.py), so pip installs secrets-layout from the git repository and
finds everything else installed, offline. Not run: the Pulumi CLI and a Pulumi backend (no network).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

from install_support import bare_venv, clean_environment, copy_of_the_checkout, virtualenv_python

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
URL_PLACEHOLDER = "<this repository's URL>"
SECURITY, APP = "123456789012", "210987654321"

SETTINGS_FILE = "_environment.yaml"
TEAM_FILE = textwrap.dedent("""\
    # yaml-language-server: $schema=../team-file.schema.json
    # The orders team's secrets.
    secrets:
      - name: acme/orders/api-token
        description: Token of the orders service's payment provider
        kind: api-key
        value: {external: true}
        rotation: {lambda_arn: "arn:aws:lambda:us-east-1:123456789012:function:token-rotator", every_days: 400}
        readers: [{account: app, roles: [OrdersRole]}]
""")


def readme_install_line() -> list[str]:
    """The README's install command, as its words (a shell would split it so)."""
    [line] = [line for line in (ROOT / "README.md").read_text().splitlines()
              if line.startswith('$ pip install "secrets-layout[full] @ git+')]
    return shlex.split(line.removeprefix("$ "))


def readme_output(command: str) -> str:
    """What README.md's "Using it in your own repository" shows `command` printing."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index(f"$ {command}") + 1
    end = next(index for index in range(start, len(lines)) if lines[index].startswith(("$ ", "```")))
    return "".join(f"{line}\n" for line in lines[start:end])


def git(repository: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(repository), "-c", "user.name=Platform", "-c",
                           "user.email=platform@example.invalid", *arguments],
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def this_repository(tmp_path_factory) -> tuple[Path, str]:
    """A git repository holding this checkout (its files as they are, committed); its path and commit."""
    repository = copy_of_the_checkout(tmp_path_factory.mktemp("upstream") / "secrets-layout")
    git(repository, "init", "--quiet", "--initial-branch=main")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "-m", "secrets-layout")
    return repository, git(repository, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def team_repository(this_repository, tmp_path_factory) -> Path:
    """The team's repository with secrets-layout installed into its .venv by the README's line."""
    upstream, _ = this_repository
    repository = tmp_path_factory.mktemp("team") / "platform-secrets"
    repository.mkdir()
    git(repository, "init", "--quiet", "--initial-branch=main")
    python = bare_venv(repository / ".venv")
    command = readme_install_line()
    assert command[:2] == ["pip", "install"] and len(command) == 3
    requirement = command[2].replace(URL_PLACEHOLDER, upstream.as_uri())
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", requirement],
                               capture_output=True, text=True, cwd=repository, env=clean_environment(), timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # git itself says a local repository ignores pip's --filter=blob:none; a server does not.
    warnings = [line for line in (installed.stdout + installed.stderr).splitlines() if "warn" in line.lower()
                and line.strip() != "warning: filtering not recognized by server, ignoring"]
    assert warnings == []
    return repository


def cli(repository: Path, *arguments: str) -> subprocess.CompletedProcess:
    """The installed command, from the .venv, in the team's repository."""
    return subprocess.run([str(repository / ".venv" / "bin" / "secrets-layout"), *arguments], capture_output=True,
                          text=True, cwd=repository, env=clean_environment(COLUMNS="160"), timeout=300)


def test_the_readme_installs_from_the_default_branch_without_a_ref_that_may_not_exist():
    """No `@v<version>`: that tag is made when the version is released, so before it the line fails."""
    [requirement] = readme_install_line()[2:]
    assert requirement == f"secrets-layout[full] @ git+{URL_PLACEHOLDER}"


def test_a_team_from_init_to_a_reviewed_pull_request_to_pulumi_up(team_repository, this_repository):
    repository = team_repository
    upstream, commit = this_repository

    # -- install: the installed command is the wheel from the git repository, pinned for the team ------------
    assert cli(repository, "--version").stdout == f"secrets-layout {VERSION}\n" == readme_output(
        "secrets-layout --version")

    # -- init: what the README shows ----------------------------------------------------------------------------
    result = cli(repository, "init", "acme", "--security-account", SECURITY, "--account", f"app={APP}")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == readme_output(f"secrets-layout init acme --security-account {SECURITY} --account app={APP}")
    assert result.stdout.endswith("wrote policies/PulumiPolicy.yaml\nwrote policies/__main__.py\n"
                                  "wrote policies/requirements.txt\nwrote .gitignore\n")
    pin = f"secrets-layout[full] @ git+{upstream.as_uri()}@{commit}"
    for requirements in ("requirements.txt", "policies/requirements.txt"):
        assert (repository / requirements).read_text().splitlines()[-1] == pin
    assert git(repository, "status", "--porcelain", "--ignored", ".venv") == "!! .venv/\n"

    # -- edit: the environment as a folder, the orders team's secrets in a file of their own ---------------
    folder = repository / "environments" / "acme"
    folder.mkdir()
    (repository / "environments" / "acme.yaml").rename(folder / SETTINGS_FILE)
    settings = folder / SETTINGS_FILE
    settings.write_text(settings.read_text().replace("$schema=schema.json", "$schema=../schema.json", 1))
    stack_file = repository / "Pulumi.acme.yaml"
    stack_file.write_text(stack_file.read_text().replace("environments/acme.yaml", "environments/acme"))
    team_file = folder / "orders.yaml"
    team_file.write_text(TEAM_FILE)
    (repository / "environments" / "team-file.schema.json").write_text(cli(repository, "schema", "--file-kind",
                                                                           "team-file").stdout)

    # -- validate: the pack's rules, from the repository's own policy config ---------------------------------
    result = cli(repository, "validate")
    line = TEAM_FILE.splitlines().index(
        '    rotation: {lambda_arn: "arn:aws:lambda:us-east-1:123456789012:function:token-rotator", every_days: 400}')
    assert result.returncode == 1
    assert result.stdout.startswith(f"environments/acme/orders.yaml:{line + 1}:")
    assert "mandatory secret-rotation-max-interval" in result.stdout
    team_file.write_text(TEAM_FILE.replace("every_days: 400", "every_days: 30"))
    result = cli(repository, "validate")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "environments/acme: valid (1 secret, 0 parameters; checked against policies/config/acme.json)\n", "")

    # -- the pre-commit hook on the staged team file, then main --------------------------------------------------
    assert run_the_hook(repository) == (["environments/acme/_environment.yaml", "environments/acme/orders.yaml"], 0, "environments/acme: valid (1 secret, 0 parameters; checked against "
                                           "policies/config/acme.json)\n")
    git(repository, "commit", "--quiet", "-m", "acme: the orders token")

    # -- a pull request: the reporting role of the app account may read the token too ------------------------
    git(repository, "checkout", "--quiet", "-b", "reporting-reads-the-token")
    team_file.write_text(team_file.read_text().replace("roles: [OrdersRole]", "roles: [OrdersRole, ReportingRole]"))
    selected, code, output = run_the_hook(repository)
    assert (selected, code) == (["environments/acme/orders.yaml"], 0), output
    git(repository, "commit", "--quiet", "-m", "reporting reads the orders token")
    result = cli(repository, "preview", "environments/acme", "--base", "main", "--format", "markdown")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_the_comment_a_reviewer_reads(result.stdout)

    # -- pulumi up: the generated program and pack, as the Pulumi CLI starts them ------------------------------
    outputs = run_the_program_with_the_projects_python(repository)
    assert outputs["environment"] == "acme"
    assert outputs["secret_names"] == ["acme/orders/api-token"]
    assert_the_pack_judges_the_program(repository)


def run_the_hook(repository: Path) -> tuple[list[str], int, str]:
    """As pre-commit runs the hook of .pre-commit-hooks.yaml: its `entry` with the staged files its `files`
    pattern selects (re.search), in the environment that has secrets-layout."""
    [hook] = [hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
              if hook["id"] == "secrets-layout-validate"]
    git(repository, "add", "--all")
    staged = git(repository, "diff", "--cached", "--name-only", "--diff-filter=ACMR").split()
    selected = [path for path in staged if re.search(hook["files"], path)]
    command, *arguments = hook["entry"].split()
    assert command == "secrets-layout"
    result = cli(repository, *arguments, *selected)
    assert result.stderr == ""
    return selected, result.returncode, result.stdout


def assert_the_comment_a_reviewer_reads(markdown: str) -> None:
    """What the pull request's comment shows: the summary, with the widening counted; the two policies the
    change rewrites (the key's, whose grants follow the readers, and the secret's resource policy) at the
    lines that make them; and the policy and access diffs (issue 21 section 4)."""
    lines = markdown.splitlines()
    assert lines[:4] == [
        "<!-- secrets-layout-preview -->",
        "### secrets-layout preview: `acme` (environments/acme)",
        "",
        "✅ no mandatory policy violation · ⚠️ **1 access widening** · 0 advisory · 2 to update · **1.40 USD/month** "
        "(+0.00 against `main`)"]
    assert [line for line in lines if line.startswith("| ✏️ update")] == [
        "| ✏️ update | `acme-kms-us-east-1-key` | `aws:kms/key:Key` | [environments/acme/\\_environment.yaml:9]"
        "(environments/acme/_environment.yaml#L9) | `policy` |",
        "| ✏️ update | `acme/orders/api-token-policy` | `aws:secretsmanager/secretPolicy:SecretPolicy` | "
        "[environments/acme/orders.yaml:4](environments/acme/orders.yaml#L4) | `policy` |"]
    assert_the_policy_and_access_diffs(lines)


REPORTING = "`ArnEquals aws:PrincipalArn: arn:aws:iam::210987654321:role/ReportingRole`"
"""The condition the change adds to each statement that grants the app account's readers."""


def assert_the_policy_and_access_diffs(lines: list[str]) -> None:
    """Issue 21 section 4 on this very comment: the widening first (ReportingRole of app, 210987654321, may
    now read acme/orders/api-token in us-east-1); the policy diff of `acme-kms-us-east-1-key` (kms:Decrypt
    through Secrets Manager) and of `acme/orders/api-token-policy` (GetSecretValue, DescribeSecret),
    statement by statement, the role added to each; and the access diff, the role's row marked."""
    sections = [line for line in lines if line.startswith("#### ")]
    assert sections == ["#### ⚠️ Access widened", "#### Changes", "#### Policy statement changes",
                        "#### Who can read each secret", "#### Monthly cost (AWS list prices of 2026-11-01)"]
    widenings = lines[lines.index("#### ⚠️ Access widened"):lines.index("#### Changes")]
    assert [line for line in widenings if line.startswith("| **")] == [
        "| **new principal** | `210987654321` | `role/ReportingRole` | GetSecretValue (AWSCURRENT), DescribeSecret | "
        "acme/orders/api-token in us-east-1 |"]
    statements = lines[lines.index("#### Policy statement changes"):lines.index("#### Who can read each secret")]
    assert [line for line in statements if line.startswith(("**", "| ✏️", "| ➕", "| ➖"))] == [
        "**acme-kms-us-east-1-key** (`aws:kms/key:Key` `policy`)",
        "| ✏️ | `ReaderRolesDecryptViaSecretsManager` | Allow | `AWS:arn:aws:iam::210987654321:root` | "
        f"`kms:Decrypt`<br>`kms:DescribeKey` |  | + {REPORTING} |",
        "**acme/orders/api-token-policy** (`aws:secretsmanager/secretPolicy:SecretPolicy` `policy`)",
        f"| ✏️ | `ReadApp` | Allow | `AWS:arn:aws:iam::210987654321:root` | `secretsmanager:GetSecretValue` |  | + {REPORTING} |",
        "| ✏️ | `DescribeForReaders` | Allow | `AWS:arn:aws:iam::210987654321:root` | `secretsmanager:DescribeSecret` |  | "
        f"+ {REPORTING} |"]
    readers = lines[lines.index("#### Who can read each secret"):lines.index("<details><summary>every reader (3 rows)</summary>")]
    assert [line for line in readers if line.startswith("| `")] == [
        "| `acme/orders/api-token` | us-east-1 | `210987654321` | `role/ReportingRole` | nothing | "
        "**GetSecretValue (AWSCURRENT), DescribeSecret** (new principal) |"]


def run_the_program_with_the_projects_python(repository: Path) -> dict:
    """__main__.py, as `pulumi up --stack acme` runs it: with the python of Pulumi.yaml's virtualenv, from the
    project's folder, with the project's name and the stack file's config; on the SDK's mock engine (there
    is no engine here). Its stack outputs."""
    python = virtualenv_python(repository, "Pulumi.yaml")
    project = yaml.safe_load((repository / "Pulumi.yaml").read_text())["name"]
    config = yaml.safe_load((repository / "Pulumi.acme.yaml").read_text())["config"]
    code = textwrap.dedent(f"""\
        import json, sys
        from secrets_layout.engine.simulation import simulate
        assert "site-packages" in sys.modules["secrets_layout"].__file__  # the installed one
        run = simulate("__main__.py", project={project!r}, stack="acme", config={config!r}, root_directory=".",
                       account_id={SECURITY!r})
        print(json.dumps(run.outputs, default=str))
    """)
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=repository,
                            env=clean_environment(), timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def assert_the_pack_judges_the_program(repository: Path) -> None:
    """The pack folder init wrote, started as the CLI starts a Python pack (`python -u -m pulumi.policy
    <engine> <pack dir>`) with the python its PulumiPolicy.yaml names: it answers GetAnalyzerInfo, takes
    the repository's policy config, and Analyze finds the secret compliant, and unprotected not."""
    from secrets_layout.engine.analyzer_client import AnalyzerClient
    from secrets_layout.engine.simulation import simulate
    from secrets_layout.engine.policy_check import analyzer_resources

    pack_dir = repository / "policies"
    config = yaml.safe_load((repository / "Pulumi.acme.yaml").read_text())["config"]

    def resources():
        run = simulate(repository / "__main__.py", project="platform-secrets", stack="acme", config=config,
                       root_directory=repository, account_id=SECURITY)
        return analyzer_resources(run)[0]

    python = virtualenv_python(pack_dir, "PulumiPolicy.yaml")
    with AnalyzerClient(pack_dir, python=str(python), launcher="pulumi", env={"PYTHONPATH": ""}) as pack:
        info = pack.info()
        assert info.name == "secrets-layout" and "secret-protected" in {policy.name for policy in info.policies}
        pack.configure(config_file=repository / "policies" / "config" / "acme.json")
        assert pack.analyze_many(resources()).violations == []
        team_file = repository / "environments" / "acme" / "orders.yaml"
        team_file.write_text(team_file.read_text().replace("    kind: api-key\n", "    kind: api-key\n    protect: false\n"))
        found = pack.analyze_many(resources()).violations
        assert [(violation.policy, violation.level) for violation in found] == [("secret-protected", "mandatory")]
