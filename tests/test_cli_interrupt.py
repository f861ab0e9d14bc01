"""Ctrl-C during a preview: one line and exit 130 (128 + SIGINT, the shell's convention), no
traceback, and no process of the preview left running.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group (POSIX, "General Terminal
Interface": the INTR character), so the test signals the preview's group, after its simulation
workers and pack processes have started: the interrupt then lands in the middle of the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_support import COMMAND, ROOT

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(child) for child in children)
    return found


def _is_worker(pid: int) -> bool:
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _as_from_a_terminal() -> None:
    """SIGINT as an interactive shell leaves it to the command it starts: default. A suite started in
    the background by a shell without job control inherits it ignored (bash, "Signals": asynchronous
    commands ignore SIGINT), and Python then installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_a_preview_is_one_line_and_exit_130():
    preview = subprocess.Popen(
        [str(COMMAND), "preview", "environments/prod.yaml", "--policy-config", "policies/config/prod.json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_from_a_terminal)
    try:
        deadline = time.monotonic() + 120
        started: set[int] = set()
        # Interrupted once a simulation's worker runs (multiprocessing's resource tracker, also a child,
        # starts just before it).
        while not any(_is_worker(pid) for pid in started) and preview.poll() is None \
                and time.monotonic() < deadline:
            started |= _children(preview.pid)
            time.sleep(0.05)
        assert any(_is_worker(pid) for pid in started), "the preview started no simulation worker"
        os.killpg(preview.pid, signal.SIGINT)
        _, stderr = preview.communicate(timeout=120)
    finally:
        if preview.poll() is None:
            os.killpg(preview.pid, signal.SIGKILL)
    assert (preview.returncode, stderr) == (130, "secrets-layout preview: interrupted\n")
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in started if _alive(pid)] == []


def test_a_process_started_inside_has_ctrl_c_blocked_and_this_thread_gets_its_mask_back():
    import signal
    import sys

    from secrets_layout.engine.interrupts import children_spared_ctrl_c

    child = [sys.executable, "-c", "import signal; print(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))"]
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with children_spared_ctrl_c():
        inside = subprocess.run(child, capture_output=True, text=True, check=True).stdout
    outside = subprocess.run(child, capture_output=True, text=True, check=True).stdout
    assert (inside, outside, signal.pthread_sigmask(signal.SIG_BLOCK, [])) == ("True\n", "False\n", before)
