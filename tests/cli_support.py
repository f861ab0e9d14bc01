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
