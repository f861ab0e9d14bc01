"""Ctrl-C during a preview: one line and exit 130 (128 + SIGINT, the shell's convention), no
traceback, and no process of the preview left running.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group (POSIX, "General Terminal
Interface": the INTR character), so the test signals the preview's group once its pack processes (or,
for a program of one's own, its simulation workers) have started: the interrupt then lands in the middle
of the run.
"""

from __future__ import annotations

import os
import re
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


def _command_line_has(pid: int, marker: str) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def _is_worker(pid: int) -> bool:
    return _command_line_has(pid, "spawn_main")


def _is_pack(pid: int) -> bool:
    return _command_line_has(pid, "pack_host")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


PHASE_LINE = re.compile(r"secrets-layout preview: .+: [0-9]+\.[0-9] s")


def assert_interrupted(stderr: str) -> None:
    """One line says so, after the phases that ended before it (reports/progress.py: one line per
    finished phase when stderr is no terminal); no traceback."""
    *phases, last = stderr.splitlines()
    assert last == "secrets-layout preview: interrupted" and stderr.endswith("\n")
    assert all(PHASE_LINE.fullmatch(line) for line in phases), phases


def _as_from_a_terminal() -> None:
    """SIGINT as an interactive shell leaves it to the command it starts: default. A suite started in
    the background by a shell without job control inherits it ignored (bash, "Signals": asynchronous
    commands ignore SIGINT), and Python then installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("arguments, running, what", [
    # The packaged program's plan is evaluated in this process: the pack processes are what runs.
    (["environments/prod.yaml"], _is_pack, "policy pack process"),
    # A program of one's own runs on the SDK in simulation workers.
    (["environments/prod.yaml", "--program", "secrets_layout/program.py"], _is_worker, "simulation worker"),
])
def test_ctrl_c_during_a_preview_is_one_line_and_exit_130(arguments, running, what):
    preview = subprocess.Popen(
        [str(COMMAND), "preview", *arguments, "--policy-config", "policies/config/prod.json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_from_a_terminal)
    try:
        deadline = time.monotonic() + 120
        started: set[int] = set()
        # Interrupted once such a process runs (multiprocessing's resource tracker, also a child,
        # starts just before a worker).
        while not any(running(pid) for pid in started) and preview.poll() is None \
                and time.monotonic() < deadline:
            started |= _children(preview.pid)
            time.sleep(0.05)
        assert any(running(pid) for pid in started), f"the preview started no {what}"
        os.killpg(preview.pid, signal.SIGINT)
        _, stderr = preview.communicate(timeout=120)
    finally:
        if preview.poll() is None:
            os.killpg(preview.pid, signal.SIGKILL)
    assert preview.returncode == 130
    assert_interrupted(stderr)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in started if _alive(pid)] == []


def _interrupted_when(arguments: list[str], ready, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Start a preview, SIGINT its group once `ready(children)` holds; (exit code, stderr, seconds to end)."""
    preview = subprocess.Popen([str(COMMAND), "preview", *arguments], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=_as_from_a_terminal, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 120
        started: set[int] = set()
        while not ready(started) and preview.poll() is None and time.monotonic() < deadline:
            started |= _children(preview.pid)
            time.sleep(0.05)
        assert ready(started), "the preview never reached the moment to interrupt"
        os.killpg(preview.pid, signal.SIGINT)
        sent = time.monotonic()
        _, stderr = preview.communicate(timeout=60)
        return preview.returncode, stderr, time.monotonic() - sent
    finally:
        if preview.poll() is None:
            os.killpg(preview.pid, signal.SIGKILL)


# Each case below waited, before, for something that never ends: Ctrl-C ended the main thread, and leaving
# its block waited for the policy check's thread, itself waiting for the simulation or the pack. The bound
# says "does not wait for it", far above how long stopping takes (benchmarks/interrupts.py measures that).
NOT_WAITED_FOR = 20


def test_ctrl_c_does_not_wait_for_a_simulation_that_never_ends(tmp_path):
    program = tmp_path / "forever.py"
    program.write_text("import time\ntime.sleep(3600)\n")
    code, stderr, took = _interrupted_when(
        ["environments/dev.yaml", "--program", str(program)],
        lambda started: sum(_is_worker(pid) for pid in started) >= 2)
    assert code == 130
    assert_interrupted(stderr)
    assert took < NOT_WAITED_FOR


def test_ctrl_c_does_not_wait_for_a_pack_that_never_answers(tmp_path):
    """tests/broken_pack: the pack stops answering after its first Analyze call (PACK_BREAK=hang)."""
    answered = tmp_path / "answered"
    breaker = ROOT / "tests" / "broken_pack"
    code, stderr, took = _interrupted_when(
        ["environments/dev.yaml"], lambda started: answered.exists(),
        env={"PYTHONPATH": f"{ROOT}{os.pathsep}{breaker}", "PACK_BREAK": "hang", "PACK_BREAK_AFTER": "1",
             "PACK_BREAK_MARK": str(answered)})
    assert code == 130
    assert_interrupted(stderr)
    assert took < NOT_WAITED_FOR


def test_a_stop_registered_after_the_stop_runs_at_once_and_each_runs_once():
    from secrets_layout.engine.interrupts import StopSignal

    ran: list[str] = []
    stopping = StopSignal()
    stopping.register(lambda: ran.append("workers"))
    stopping.register(lambda: ran.append("packs"))
    stopping.on_error(None)
    assert ran == [] and not stopping.stopped
    stopping.on_error(KeyboardInterrupt)
    assert ran == ["packs", "workers"] and stopping.stopped
    stopping.register(lambda: ran.append("late pack"))
    stopping.stop()
    assert ran == ["packs", "workers", "late pack"]


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
