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
