"""Simulations in worker processes (secrets_layout/engine/workers.py): answers, failures, and stopping.

A preview that fails or is interrupted stops its simulations at once. The ProcessPoolExecutor this
replaced could hang there: an idle worker waits for work holding the shared call queue's lock
(CPython multiprocessing/queues.py, `Queue.get`), terminating it left the lock taken, and the worker
the executor started to replace one that had finished (`max_tasks_per_child=1`) then waited for it
forever, and the shutdown for that worker (a Ctrl-C about 2.6 s into `preview environments/prod.yaml`
hung it one time in three). The shapes below (stopped while one simulation runs, after another
finished, before a queued one started) each end in bounded time with no process left.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from secrets_layout.engine.workers import InProcess, SimulationRunner, WorkerFailed

PROGRAM = """
import os, signal, time
import pulumi
{body}
pulumi.export("pid", os.getpid())
pulumi.export("sigint_blocked", signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))
"""


def _arguments(tmp_path: Path, name: str, body: str = "") -> dict:
    program = tmp_path / f"{name}.py"
    program.write_text(PROGRAM.format(body=textwrap.dedent(body)))
    return dict(program=program, project="secrets-layout", stack="dev")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_worker_answers_with_the_simulation_and_started_with_ctrl_c_blocked(tmp_path):
    with SimulationRunner(workers=2) as runner:
        answer = runner.submit(_arguments(tmp_path, "quick")).result(timeout=120)
    assert answer.outputs["pid"] != os.getpid()
    assert answer.outputs["sigint_blocked"] is True
    assert not _alive(int(answer.outputs["pid"]))


def test_the_programs_exception_comes_back_as_itself(tmp_path):
    with SimulationRunner(workers=2) as runner:
        job = runner.submit(_arguments(tmp_path, "failing", "raise ValueError('no such secret: prod/app/key')"))
        with pytest.raises(ValueError, match="no such secret: prod/app/key"):
            job.result(timeout=120)


def test_a_worker_that_dies_is_a_clear_error(tmp_path):
    with SimulationRunner(workers=2) as runner:
        job = runner.submit(_arguments(tmp_path, "killed", "os.kill(os.getpid(), signal.SIGKILL)"))
        with pytest.raises(WorkerFailed, match=r"ended without an answer \(exit code -9\)"):
            job.result(timeout=120)


@pytest.mark.parametrize("finished_first", [False, True], ids=["one-running", "one-finished-one-running"])
def test_leaving_with_an_error_stops_every_simulation_at_once(tmp_path, finished_first):
    pids_file = tmp_path / "pids"
    slow = _arguments(tmp_path, "slow", f"open({str(pids_file)!r}, 'a').write(f'{{os.getpid()}}\\n')\ntime.sleep(600)")
    jobs = []
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with SimulationRunner(workers=2) as runner:
            if finished_first:
                jobs.append(runner.submit(_arguments(tmp_path, "quick")))
                jobs[0].result(timeout=120)
            # Two run (two workers), the third waits for one of them.
            jobs.extend(runner.submit(slow) for _ in range(3))
            while (not pids_file.exists() or len(pids_file.read_text().split()) < 2) \
                    and time.monotonic() - started < 120:
                time.sleep(0.05)
            raise KeyboardInterrupt
    assert time.monotonic() - started < 150
    pids = [int(line) for line in pids_file.read_text().split()]
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)  # the third never started
    for job in jobs[int(finished_first):]:
        with pytest.raises(WorkerFailed):
            job.result(timeout=0)


def test_one_worker_runs_the_simulation_here_when_asked(tmp_path):
    with SimulationRunner(parallel=False) as runner:
        job = runner.submit(_arguments(tmp_path, "here"))
    assert isinstance(job, InProcess)
    assert job.result().outputs["pid"] == os.getpid()
