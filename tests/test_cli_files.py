"""Issue 11, command line: the files named on the command line.

Only regular files are read (a FIFO would block open() forever; /dev/zero never ends); every
failure names its real cause and exits 2; file names are printed escaped (a newline followed by
`::error` would be a GitHub Actions workflow command); nothing is written over without --force
(SPEC section 9); `init` writes all three files or none; write errors on standard output are one
message and exit 2, not a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli_support import ROOT, assert_no_traceback, run_cli, run_main
from declaration_support import VALID_SECRET, declaration

VALID = declaration(VALID_SECRET)


@pytest.fixture
def declaration_file(tmp_path):
    file = tmp_path / "prod.yaml"
    file.write_text(VALID)
    return file


# --- what is not a readable regular file -------------------------------------------------------------

def _fifo(folder: Path, name: str = "a.yaml") -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _loop(folder: Path) -> Path:
    (folder / "one.yaml").symlink_to(folder / "two.yaml")
    (folder / "two.yaml").symlink_to(folder / "one.yaml")
    return folder / "one.yaml"


NOT_REGULAR = [
    pytest.param(_fifo, "a FIFO (named pipe), not a regular file; name a file", id="fifo"),
    pytest.param(lambda folder: Path("/dev/zero"), "a character device, not a regular file; name a file", id="dev-zero"),
    pytest.param(_loop, "a loop of symbolic links; point the link at a real file", id="symlink-loop"),
    pytest.param(lambda folder: folder / "missing.yaml", "no such file", id="missing"),
]


@pytest.mark.slow
@pytest.mark.parametrize("command", [
    pytest.param(("validate",), id="validate"),
    pytest.param(("preview",), id="preview"),
    pytest.param(("consumer-policy", "prod/app/api-key", "--account", "prod-app", "--file"), id="consumer-policy"),
])
@pytest.mark.parametrize(("make", "problem"), NOT_REGULAR)
def test_every_file_argument_must_be_a_regular_file(tmp_path, command, make, problem):
    """A FIFO through the console script with a timeout: before, it hung validate forever."""
    path = make(tmp_path)
    result = run_cli(*command, str(path), timeout=60) if make is _fifo else run_main(*command, str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout {command[0]}: error: {path}: {problem}\n"


@pytest.mark.slow
def test_a_fifo_in_a_folder_is_skipped_not_opened(tmp_path):
    (tmp_path / "prod.yaml").write_text(VALID)
    _fifo(tmp_path)
    result = run_cli("validate", "--no-policy-config", str(tmp_path), timeout=60)
    assert result.returncode == 0
    assert result.stdout == f"{tmp_path}/prod.yaml: valid (1 secret, 0 parameters)\n"
    assert result.stderr == f"secrets-layout validate: skipped {tmp_path}/a.yaml: a FIFO (named pipe), not a regular file\n"


@pytest.mark.parametrize(("arguments", "message"), [
    pytest.param(("validate", ""), "'' is not a path; name a declaration file or a folder of them", id="empty-path"),
    pytest.param(("validate", "{empty}"), "{empty}: no declarations (*.yaml files) in this folder; name the files to check",
                 id="empty-folder"),
])
def test_nothing_to_validate_is_a_usage_error(tmp_path, arguments, message):
    """Before: an empty folder exited 0 with no output; "" validated the working directory."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "unrelated.yaml").write_text("a: 1\n")
    empty = str(tmp_path / "empty")
    result = run_main(*(argument.format(empty=empty) for argument in arguments), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout validate: error: {message.format(empty=empty)}\n"


def _run_unprivileged(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """The CLI as a user without root's bypass of file permissions (setpriv to nobody when root)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be denied")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if subprocess.run([*prefix, sys.executable, "-c", "import secrets_layout"], capture_output=True,
                          timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode != 0:
            # A checkout in a private folder (`mktemp -d` makes one): nobody cannot run its interpreter.
            pytest.skip(f"{sys.executable} cannot be run by an unprivileged user (a private folder on its path): "
                        "permissions cannot be denied to it")
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([*prefix, sys.executable, "-m", "secrets_layout.cli", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=environment, check=False)


@pytest.fixture
def open_folder():
    """A folder anyone may enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="secrets-layout-files-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755) if path.is_dir() else None
    shutil.rmtree(folder)


@pytest.mark.slow
@pytest.mark.parametrize("command", [
    pytest.param(("validate",), id="validate"),
    pytest.param(("preview",), id="preview"),
    pytest.param(("consumer-policy", "prod/app/api-key", "--account", "prod-app", "--file"), id="consumer-policy"),
])
def test_an_unreadable_file_is_a_usage_error(open_folder, command):
    """Before: preview and consumer-policy --file ended in a PermissionError traceback."""
    file = open_folder / "prod.yaml"
    file.write_text(VALID)
    file.chmod(0o000)
    result = _run_unprivileged(*command, str(file), cwd=open_folder)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout {command[0]}: error: {file}: permission denied; make the file readable\n"


# --- names that would forge output -----------------------------------------------------------------

FORGING_NAMES = [
    pytest.param("a\n::error file=x.yaml::forged.yaml", id="newline-workflow-command"),
    pytest.param("::error file=x.yaml::forged.yaml", id="workflow-command-name"),
    pytest.param("a\x1b[2J\x1b[31mred.yaml", id="escape-sequence"),
]


@pytest.mark.parametrize("name", FORGING_NAMES)
def test_file_names_are_printed_escaped(tmp_path, name):
    (tmp_path / name).write_text(VALID)
    (tmp_path / ("bad" + name)).write_text(VALID.replace("every_days: 30", "every_days: 0"))
    result = run_main("validate", name, "bad" + name, "missing" + name, cwd=tmp_path)
    assert result.returncode == 2
    assert "\x1b" not in result.stdout + result.stderr
    assert not any(line.startswith("::") for line in (result.stdout + result.stderr).splitlines())
    escaped = name.replace("\n", "\\n").replace("\x1b", "\\u001b")
    assert result.stderr == f"secrets-layout validate: error: missing{escaped}: no such file\n"

    result = run_main("validate", name, "bad" + name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{'./' if escaped.startswith('::') else ''}{escaped}: valid (1 secret, 0 parameters)",
        f"bad{escaped}:10:55: secrets[0].rotation.every_days: must be at least 1 — Rotate every N days (1-1000).",
    ]


# --- --output and --force --------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "options", "problem"), [
    pytest.param("report.txt", (), "report.txt: already exists; pass --force to replace it, or choose another file",
                 id="existing-file"),
    pytest.param("link.txt", (), "link.txt: already exists; pass --force to replace it, or choose another file",
                 id="symlink-to-a-file"),
    pytest.param("prod.yaml", ("--force",), "prod.yaml: is the declaration prod.yaml itself; write the report to "
                 "another file", id="the-declaration-even-with-force"),
    pytest.param("declaration-link.yaml", ("--force",), "declaration-link.yaml: is the declaration prod.yaml itself; "
                 "write the report to another file", id="a-link-to-the-declaration"),
])
def test_preview_output_never_replaces_a_file_unasked(tmp_path, declaration_file, target, options, problem):
    """SPEC section 9: nothing is written over without being asked. Refused before the preview runs."""
    (tmp_path / "report.txt").write_text("kept\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "report.txt")
    (tmp_path / "declaration-link.yaml").symlink_to(declaration_file)
    result = run_main("preview", "prod.yaml", "--output", target, *options, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout preview: error: {problem}\n"
    assert (tmp_path / "report.txt").read_text() == "kept\n"
    assert declaration_file.read_text() == VALID


@pytest.mark.slow
def test_preview_output_with_force_replaces_the_file(tmp_path, declaration_file):
    (tmp_path / "report.json").write_text("old\n")
    result = run_cli("preview", str(declaration_file), "--format", "json", "--output", str(tmp_path / "report.json"),
                     "--force", "--policy-config", str(ROOT / "policies" / "config" / "prod.json"))
    assert (result.returncode, result.stdout) in {(0, ""), (1, "")}
    assert (tmp_path / "report.json").read_text().startswith("{\n")


# --- init: all or nothing ----------------------------------------------------------------------------

@pytest.mark.parametrize(("in_the_way", "problem"), [
    pytest.param("environments", "cannot write environments/qa.yaml (environments: a file is in the way of a folder: "
                 "move it away); nothing was written", id="environments-is-a-file"),
    pytest.param("policies/config", "cannot write policies/config/qa.json (policies/config: a file is in the way of a "
                 "folder: move it away); nothing was written", id="policies-config-is-a-file"),
])
def test_init_writes_all_or_nothing(tmp_path, in_the_way, problem):
    """Before: a traceback, with environments/qa.yaml and Pulumi.qa.yaml left behind."""
    (tmp_path / in_the_way).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / in_the_way).write_text("")
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    result = run_main("init", "qa", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"secrets-layout init: error: {problem}\n"
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_init_in_a_read_only_folder_writes_nothing(open_folder):
    (open_folder / "environments").mkdir()
    (open_folder / "environments").chmod(0o555)
    open_folder.chmod(0o777)  # the stack file could be written; the declaration cannot
    result = _run_unprivileged("init", "qa", cwd=open_folder)
    assert_no_traceback(result)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("secrets-layout init: error: cannot write environments/qa.yaml "
                             f"({open_folder}/environments: permission denied); nothing was written\n")
    assert sorted(path.name for path in open_folder.rglob("*")) == ["environments"]


# --- standard output ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("redirect", "problem"), [
    pytest.param("> /dev/full", "no space left on device", id="dev-full"),
    pytest.param(">&-", "standard output is closed", id="closed"),
])
@pytest.mark.parametrize("command", ["validate environments/dev.yaml", "schema"])
def test_standard_output_that_cannot_be_written_is_one_message(redirect, problem, command):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    script = Path(sys.executable).parent / "secrets-layout"
    result = subprocess.run(f"{script} {command} {redirect}", shell=True, cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert (result.returncode, result.stderr) == (
        2, f"secrets-layout {command.split()[0]}: error: cannot write to standard output: {problem}\n")


# --- --base of a file that is not UTF-8 ----------------------------------------------------------------

@pytest.mark.slow
def test_preview_base_whose_file_is_not_utf8_is_an_invalid_base(tmp_path, declaration_file):
    """Before: UnicodeDecodeError from `git show` read as text."""
    def git(*arguments: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t", *arguments],
                       check=True, capture_output=True)

    git("init", "-q")
    declaration_file.write_bytes(VALID.encode() + b"# caf\xe9\n")
    git("add", "prod.yaml")
    git("commit", "-q", "-m", "latin-1")
    declaration_file.write_text(VALID)
    result = run_cli("preview", str(declaration_file), "--base", "HEAD", "--format", "json",
                     "--policy-config", str(ROOT / "policies" / "config" / "prod.json"))
    assert_no_traceback(result)
    assert result.returncode in (0, 1)
    assert ("prod.yaml at HEAD is not a valid declaration (1 problems): changes are shown against an empty layout"
            in result.stdout)


def test_the_command_alone_prints_its_help():
    """`secrets-layout` with nothing else says what it can do, on stdout, exit 0 (issue 21)."""
    result = run_cli()
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: secrets-layout [-h] [--version] COMMAND ...\n")
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ") and line.split()]
    assert {"validate", "preview", "schema", "init", "consumer-policy", "audit"} <= set(listed)


def test_every_option_has_a_help_line_that_names_its_default():
    """`COMMAND --help` explains each option; one with a default says which (issue 21)."""
    import argparse

    from secrets_layout.cli import _parser

    commands = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    unexplained = []
    for name, command in commands.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            default = action.default
            has_default = default not in (None, False, [], argparse.SUPPRESS)
            if not action.help or (has_default and "default" not in action.help):
                unexplained.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert unexplained == []
