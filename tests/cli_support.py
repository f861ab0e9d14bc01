"""Run the installed `secrets-layout` console script, the way users and CI run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "secrets-layout"


def run_cli(*arguments: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(COMMAND), *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=environment, check=False)


def copy_of_the_checkout(destination: Path) -> Path:
    """The files git knows (tracked or not ignored): what a clone plus the working tree's changes hold."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def run_main(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`secrets_layout.cli.main` in this process, with its output captured: the entry point without
    an interpreter start per case (for tables of many cases). Exit codes as the console script's."""
    import contextlib
    import io

    from secrets_layout.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(list(arguments))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(list(arguments), code, stdout.getvalue(), stderr.getvalue())


def without_phase_lines(stderr: str, command: str = "preview") -> str:
    """stderr without the lines that say which phase ended and how long it took (reports/progress.py
    writes one per finished phase when stderr is no terminal, as in these tests): what is left is what
    the command has to say."""
    import re

    phase = re.compile(rf"secrets-layout {command}: .+: [0-9]+\.[0-9] s")
    return "".join(line for line in stderr.splitlines(keepends=True) if not phase.fullmatch(line.rstrip("\n")))
