"""An environment folder through the real entry point: validate (also with no argument and with
--policy-config auto), preview in every format, --base; and each example environment split into a
folder previews exactly as the one file does (the same resources and violations, modulo file/line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli, run_main
from folder_support import SETTINGS_FILE, split_declaration, team_of
from preview_support import git

ENVIRONMENTS = ("dev", "prod", "shared-services", "staging")
TOO_RARE = "    every_days: 400\n"
"""A rotation 400 days apart: the mandatory secret-rotation-max-interval (maximumDays 90 in prod.json)."""


DEV_VALID = "environments/dev.yaml: valid (3 secrets, 2 parameters; checked against policies/config/dev.json)\n"
PROD_VALID = "environments/prod: valid (5 secrets, 3 parameters; checked against policies/config/prod.json)\n"


def repository(tmp_path: Path) -> Path:
    """A git repository with environments/dev.yaml (one file), environments/prod/ (the example split
    into a folder) and their policy configs, committed."""
    repo = tmp_path / "repo"
    (repo / "environments").mkdir(parents=True)
    shutil.copy(ROOT / "environments" / "dev.yaml", repo / "environments" / "dev.yaml")
    split_declaration(ROOT / "environments" / "prod.yaml", repo / "environments" / "prod")
    (repo / "policies" / "config").mkdir(parents=True)
    for environment in ("dev", "prod"):
        shutil.copy(ROOT / "policies" / "config" / f"{environment}.json", repo / "policies" / "config")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "tests@example.invalid")
    git(repo, "config", "user.name", "tests")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "first")
    return repo


def rotate_rarely(team_file: Path) -> int:
    """Make the team file's first rotation 400 days apart; returns the line of the every_days: written."""
    lines = team_file.read_text().splitlines(keepends=True)
    index = lines.index("  rotation:\n") + 1
    lines.insert(index, TOO_RARE)
    team_file.write_text("".join(lines))
    return index + 1


def test_validate_with_no_argument_checks_files_and_folders(tmp_path):
    repo = repository(tmp_path)
    result = run_main("validate", cwd=repo)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == DEV_VALID + PROD_VALID


def test_validate_from_a_subfolder_checks_the_repositorys_declarations(tmp_path):
    """Results do not depend on the working directory: the names are relative to it."""
    repo = repository(tmp_path)
    (repo / "docs" / "notes").mkdir(parents=True)
    for where, declarations in ((repo / "docs" / "notes", "../../environments/"), (repo / "environments" / "prod", "../")):
        result = run_main("validate", cwd=where)
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == (f"{declarations}dev.yaml: valid (3 secrets, 2 parameters; checked against "
                                 "../../policies/config/dev.json)\n"
                                 f"{declarations}prod: valid (5 secrets, 3 parameters; checked against "
                                 "../../policies/config/prod.json)\n")


def test_validate_outside_any_declarations_is_a_usage_error(tmp_path):
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    result = run_main("validate", cwd=tmp_path / "empty")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith("secrets-layout validate: error: no declarations match environments/*.yaml or "
                                  "environments/*/ here or in a folder above; name the files to check\n")


@pytest.mark.parametrize("staged", [
    ["environments/prod/payments.yaml"],
    [f"environments/prod/{SETTINGS_FILE}"],
    ["environments/prod/payments.yaml", "environments/prod/orders.yaml", f"environments/prod/{SETTINGS_FILE}"],
])
def test_a_file_of_an_environment_folder_is_validated_as_its_environment(tmp_path, staged):
    """What the pre-commit hook passes: each staged file. A team file alone is no declaration: its
    environment (settings, defaults and every team's secrets) is checked, once."""
    repo = repository(tmp_path)
    result = run_main("validate", *staged, cwd=repo)
    assert (result.returncode, result.stdout, result.stderr) == (0, PROD_VALID, "")


def test_a_team_files_mistake_is_reported_in_the_team_file(tmp_path):
    repo = repository(tmp_path)
    line = rotate_rarely(repo / "environments" / "prod" / "payments.yaml")
    result = run_main("validate", "environments/prod/payments.yaml", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.startswith(f"environments/prod/payments.yaml:{line}:5: secrets[0].rotation.every_days: "
                                    "mandatory secret-rotation-max-interval: ")


@pytest.mark.parametrize("argument", ["environments/prod", "environments/prod/", "environments"])
def test_validate_a_folder_argument(tmp_path, argument):
    """A folder with _environment.yaml is one environment; a folder of environments gives its files
    and its environment folders."""
    repo = repository(tmp_path)
    result = run_main("validate", argument, cwd=repo)
    assert result.returncode == 0
    assert PROD_VALID in result.stdout


FILE_SIDE = ("environments/prod.yaml:1:1: (document): prod/ declares this environment too, and `pulumi up` deploys "
             "this file by default, not the folder; a stack whose secrets-layout:declaration names the folder stops "
             "on this; keep one: remove the file, or the folder\n")
FOLDER_SIDE = ("environments/prod.yaml:1:1: (document): prod.yaml declares this environment too, and `pulumi up` "
               "deploys the file by default, not this folder; a stack whose secrets-layout:declaration names the "
               "folder stops on this; keep one: remove the file, or the folder\n")


@pytest.mark.parametrize(("beside", "arguments", "exit_code", "output"), [
    pytest.param(True, ("environments/prod.yaml",), 1, FILE_SIDE, id="the-file-beside-the-folder"),
    pytest.param(True, ("environments/prod",), 1, FOLDER_SIDE, id="the-folder-beside-the-file"),
    pytest.param(True, (), 1, DEV_VALID + FILE_SIDE + FOLDER_SIDE, id="every-declaration"),
    pytest.param(False, ("environments/prod.yaml",), 0, PROD_VALID.replace("environments/prod:",
                                                                           "environments/prod.yaml:"),
                 id="the-file-alone"),
])
def test_an_environment_declared_by_a_file_and_a_folder_is_an_issue_on_either_side(tmp_path, beside, arguments,
                                                                                    exit_code, output):
    """Whichever side is validated says so, at the file's 1:1, naming the other and which one the
    program deploys: declaration.folder.default_declaration takes the file when both exist, and a
    stack naming the folder stops at the folder's issue (test_declaration_folder)."""
    repo = repository(tmp_path)
    shutil.copy(ROOT / "environments" / "prod.yaml", repo / "environments" / "prod.yaml")
    if not beside:
        shutil.rmtree(repo / "environments" / "prod")
    result = run_main("validate", *arguments, cwd=repo)
    assert (result.returncode, result.stdout, result.stderr) == (exit_code, output, "")


def test_a_file_declared_twice_is_still_checked_in_full(tmp_path):
    """The issue comes first; the file's own issues and the pack's verdicts (--policy-config) follow."""
    repo = repository(tmp_path)
    file = repo / "environments" / "prod.yaml"
    file.write_text((ROOT / "environments" / "prod.yaml").read_text().replace("    every_days: 30\n", "    every_days: 400\n"))
    line = next(number for number, text in enumerate(file.read_text().splitlines(), 1) if "every_days: 400" in text)
    result = run_main("validate", "environments/prod.yaml", "--policy-config", "auto", cwd=repo)
    assert result.returncode == 1
    assert [text.split(": The secret")[0] for text in result.stdout.splitlines()] == [
        FILE_SIDE.rstrip("\n"),
        f"environments/prod.yaml:{line}:7: secrets[3].rotation.every_days: mandatory secret-rotation-max-interval"]


def test_a_file_beside_a_plain_file_of_the_folders_name_is_no_issue(tmp_path):
    """Only a folder declares an environment (default_declaration: os.path.isdir)."""
    repo = repository(tmp_path)
    (repo / "environments" / "dev").write_text("notes\n")
    result = run_main("validate", "environments/dev.yaml", cwd=repo)
    assert (result.returncode, result.stdout) == (0, DEV_VALID)


def test_validate_policy_config_auto_locates_a_violation_in_the_team_file(tmp_path):
    repo = repository(tmp_path)
    line = rotate_rarely(repo / "environments" / "prod" / "payments.yaml")
    result = run_main("validate", "--policy-config", "auto", "--format", "json", cwd=repo)
    assert result.returncode == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(error["file"], error["line"], error["column"], error["path"], error["policy"]) for error in errors] == [
        ("environments/prod/payments.yaml", line, 5, "secrets[0].rotation.every_days", "secret-rotation-max-interval")]


def test_an_inherited_violation_is_located_at_the_defaults_of_the_settings_file(tmp_path):
    repo = repository(tmp_path)
    settings = repo / "environments" / "prod" / SETTINGS_FILE
    settings.write_text(settings.read_text().replace("    every_days: 30\n", "    every_days: 400\n"))
    line = next(number for number, text in enumerate(settings.read_text().splitlines(), 1) if "every_days: 400" in text)
    result = run_main("validate", "environments/prod", "--policy-config", "auto", cwd=repo)
    assert result.returncode == 1
    located = {text.split(": mandatory")[0] for text in result.stdout.splitlines()}
    assert f"environments/prod/{SETTINGS_FILE}:{line}:5: defaults.rotation.every_days" in located


def _locations(output: str, form: str) -> set[tuple[str, int]]:
    if form == "json":
        return {(violation["file"], violation["line"]) for violation in json.loads(output)["violations"]}
    if form == "sarif":
        return {(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 result["locations"][0]["physicalLocation"]["region"]["startLine"])
                for result in json.loads(output)["runs"][0]["results"]}
    return set()


@pytest.mark.slow
@pytest.mark.parametrize("form", ["text", "json", "sarif", "markdown"])
def test_preview_of_a_folder_locates_violations_and_resources_in_their_files(tmp_path, form):
    repo = repository(tmp_path)
    line = rotate_rarely(repo / "environments" / "prod" / "payments.yaml")
    result = run_cli("preview", "environments/prod/", "--format", form, cwd=repo)
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr
    where = "environments/prod/payments.yaml"
    expected = {
        "text": f"{where}:{line}:5: mandatory secret-rotation-max-interval: ",
        "markdown": f"[{where}:{line}]({where}#L{line})",
    }
    if form in expected:
        assert expected[form] in result.stdout
    else:
        assert _locations(result.stdout, form) == {(where, line)}
    if form == "text":  # the resources table: the file in the folder and the line
        assert "│ payments.yaml:3 " in result.stdout
    if form == "json":
        document = json.loads(result.stdout)
        assert document["file"] == "environments/prod"
        for resource in document["resources"]:
            name = resource["inputs"].get("name")
            if resource["type"] == "aws:secretsmanager/secret:Secret" and isinstance(name, str):
                assert resource["file"] == f"environments/prod/{team_of(name)}.yaml", name


@pytest.mark.slow
def test_preview_base_reads_every_file_of_the_folder_at_the_base(tmp_path):
    """One team file changed: only that team's resources change."""
    repo = repository(tmp_path)
    payments = repo / "environments" / "prod" / "payments.yaml"
    payments.write_text(payments.read_text().replace("description: Stripe secret key of the payments service",
                                                     "description: Stripe key of the payments service"))
    result = run_cli("preview", "environments/prod", "--base", "HEAD", "--format", "json", cwd=repo)
    assert_no_traceback(result)
    document = json.loads(result.stdout)
    assert document["warnings"] == []
    changed = {(resource["change"], resource["file"]) for resource in document["resources"] if resource["change"] != "same"}
    assert changed == {("update", "environments/prod/payments.yaml")}


@pytest.mark.slow
def test_converting_a_file_to_a_folder_previews_as_no_change(tmp_path):
    """--base finds the declaration in its other form (environments/prod.yaml at the base)."""
    repo = repository(tmp_path)
    git(repo, "rm", "-r", "--quiet", "environments/prod")
    shutil.copy(ROOT / "environments" / "prod.yaml", repo / "environments" / "prod.yaml")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "one file")
    git(repo, "rm", "--quiet", "environments/prod.yaml")
    split_declaration(ROOT / "environments" / "prod.yaml", repo / "environments" / "prod")
    result = run_cli("preview", "environments/prod", "--base", "HEAD", "--format", "json", cwd=repo)
    assert_no_traceback(result)
    document = json.loads(result.stdout)
    assert document["warnings"] == []
    assert {resource["change"] for resource in document["resources"]} == {"same"}


@pytest.mark.slow
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_example_environment_previews_the_same_as_one_file_and_as_a_folder(tmp_path, environment):
    """Same resources (URN, type, change, inputs) and the same violations (policy, level, resource,
    message); only the file and line differ. The settings file keeps one secret, so both forms of
    the settings file are covered."""
    from secrets_layout.preview import run_preview

    folder = split_declaration(ROOT / "environments" / f"{environment}.yaml", tmp_path / environment, settings_keeps=1)
    # The folder lies outside this repository, so it names the environment's policy config (and runs
    # the packaged program, which is the repository's __main__.py's own).
    config = ROOT / "policies" / "config" / f"{environment}.json"
    one_file = run_preview(ROOT / "environments" / f"{environment}.yaml")
    as_folder = run_preview(folder, policy_config=config)

    def resources(report):
        return sorted((resource.change.urn, resource.change.type, resource.change.change,
                       json.dumps(resource.change.inputs, sort_keys=True)) for resource in report.resources)

    def violations(report):
        return sorted((violation.policy, violation.level, violation.urn, violation.message) for violation in report.violations)

    assert resources(as_folder) == resources(one_file)
    assert violations(as_folder) == violations(one_file)
    # The cost lists secrets in declaration order, which the folder's file order changes.
    assert sorted(as_folder.cost.items, key=repr) == sorted(one_file.cost.items, key=repr)
    assert {Path(resource.file).parent for resource in as_folder.resources} == {folder}


def test_a_team_file_name_is_escaped_in_every_message(tmp_path):
    """A name with a newline must not start a new output line (`::error ...` would be a GitHub
    Actions workflow command); the escaped name is JSON's escape of the character."""
    repo = repository(tmp_path)
    (repo / "environments" / "prod" / "x\n::error::y.yaml").write_text("secrets:\n  - name: prod/x/y\n    value: {from_config: y}\n    frobnicate: 1\n")
    result = run_main("validate", "environments/prod", cwd=repo)
    assert result.returncode == 1
    assert [line.split(";")[0] for line in result.stdout.splitlines()] == [
        "environments/prod/x\\n::error::y.yaml:4:5: secrets[0].frobnicate: unknown field 'frobnicate'"]
