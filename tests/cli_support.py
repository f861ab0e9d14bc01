"""Run the installed `secrets-layout` console script, the way users and CI run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "secrets-layout"


def run_cli(*arguments: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(COMMAND), *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=environment, check=False)


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
